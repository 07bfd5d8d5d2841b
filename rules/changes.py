"""The reader of `incident_changes`, beside its writer (`rules.store.save_changes`): changes in
id order with what dispatch needs to act on them (adapter)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import psycopg


class ChangeRow(NamedTuple):
    """One recorded incident change; `first` when it is the incident's first change."""

    id: int
    change: str
    key: str
    device_id: str | None  # None when the registry lacks the device
    model_id: str | None
    fault: str
    at: datetime
    first: bool


def read_changes(conn: psycopg.Connection, after_id: int, limit: int) -> list[ChangeRow]:
    """Recorded changes after id `after_id`, in id order (at most `limit`)."""
    # the first recorded change of an incident counts as its opening: an incident that opened
    # and cleared within one batch is recorded only as "auto_cleared". A LEFT JOIN: a device
    # the registry lacks must not look like a gap in the ids.
    rows = conn.execute(
        """SELECT c.id, c.change, i.key, d.device_id, d.model_id, i.fault, c.at,
                  NOT EXISTS (SELECT 1 FROM incident_changes p
                              WHERE p.key = c.key AND p.id < c.id) AS first
           FROM incident_changes c JOIN incidents i ON i.key = c.key
           LEFT JOIN devices d ON d.id = i.device
           WHERE c.id > %s ORDER BY c.id LIMIT %s""", (after_id, limit)).fetchall()
    return [ChangeRow(*r) for r in rows]
