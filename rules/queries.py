"""Incidents as people see them: lists with filters and a cursor, one incident (adapter).

People change incidents only through commands (`rules.commandstore.submit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from psycopg.rows import dict_row

OPEN = ("open", "updated", "acknowledged")
_COLUMNS = """i.key, i.device, d.device_id, d.model_id, i.fault, i.kind, i.severity, i.action,
              i.title, i.state, i.opened_at, i.updated_at, i.closed_at, i.sources, i.flaps"""


def list_incidents(conn: psycopg.Connection, *, states: list[str] | None = None,
                   device_id: str | None = None, fault: str | None = None,
                   model_id: str | None = None, before: tuple[datetime, str] | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
    """Incidents newest first; `before` is the (opened_at, key) cursor of the last row seen."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"""SELECT {_COLUMNS} FROM incidents i LEFT JOIN devices d ON d.id = i.device
                WHERE (%(states)s::text[] IS NULL OR i.state = ANY(%(states)s))
                  AND (%(device)s::text IS NULL OR d.device_id = %(device)s)
                  AND (%(fault)s::text IS NULL OR i.fault = %(fault)s)
                  AND (%(model)s::text IS NULL OR d.model_id = %(model)s)
                  AND (%(bt)s::timestamptz IS NULL OR (i.opened_at, i.key) < (%(bt)s, %(bk)s))
                ORDER BY i.opened_at DESC, i.key DESC LIMIT %(limit)s""",
            {"states": states, "device": device_id, "fault": fault, "model": model_id,
             "bt": before[0] if before else None, "bk": before[1] if before else None,
             "limit": limit}).fetchall()


def get_incident(conn: psycopg.Connection, key: str) -> dict[str, Any] | None:
    """One incident with its readings."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT {_COLUMNS}, i.readings, i.version FROM incidents i "
                           "LEFT JOIN devices d ON d.id = i.device WHERE i.key = %s",
                           (key,)).fetchone()


def incident_row(conn: psycopg.Connection, key: str) -> dict[str, Any] | None:
    """Every stored column of one incident (None when there is none)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM incidents WHERE key = %s", (key,)).fetchone()


def device_of(conn: psycopg.Connection, key: str) -> int | None:
    """The registry key (devices.id) of an incident's device."""
    row = conn.execute("SELECT device FROM incidents WHERE key = %s", (key,)).fetchone()
    return None if row is None else int(row[0])


def opened_per_day(conn: psycopg.Connection, since: datetime) -> list[dict[str, Any]]:
    """Incidents opened since `since`, counted per (model, fault, UTC day): `model_id`,
    `fault`, `day`, `n` (the registry, in the base package, gives each device's model)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT d.model_id, i.fault, (i.opened_at AT TIME ZONE 'UTC')::date AS day,
                      count(*) AS n
               FROM incidents i JOIN devices d ON d.id = i.device
               WHERE i.opened_at >= %s GROUP BY 1, 2, 3""", (since,)).fetchall()


class Brief(NamedTuple):
    """An incident in a few words: its fault, its state, its device (`devices.id`)."""

    fault: str
    state: str
    device: int


def briefs(conn: psycopg.Connection, keys: Sequence[str]) -> dict[str, Brief]:
    """The fault, state and device of each of these incidents that exists, by key (one
    query however many keys: for pages that list other areas' rows by incident)."""
    if not keys:
        return {}
    rows = conn.execute("SELECT key, fault, state, device FROM incidents WHERE key = ANY (%s)",
                        (list(keys),), binary=True).fetchall()
    return {r[0]: Brief(r[1], r[2], r[3]) for r in rows}


def fault_sources(conn: psycopg.Connection, keys: Sequence[str]
                  ) -> dict[str, tuple[str, list[str]]]:
    """The fault and the sources (rules, error codes, generic detectors) of each of these
    incidents that exists, by key (one query)."""
    if not keys:
        return {}
    rows = conn.execute("SELECT key, fault, sources FROM incidents WHERE key = ANY (%s)",
                        (list(keys),)).fetchall()
    return {r[0]: (r[1], list(r[2])) for r in rows}


def states(conn: psycopg.Connection, keys: Sequence[str]) -> dict[str, str]:
    """The state of each of these incidents that exists, by key (one query)."""
    if not keys:
        return {}
    return dict(conn.execute("SELECT key, state FROM incidents WHERE key = ANY (%s)",
                             (list(keys),)).fetchall())


def remaining_life(conn: psycopg.Connection, key: str) -> dict[str, float | None] | None:
    """The remaining life the engine estimated for an incident ({days, lo, hi}), if any."""
    row = conn.execute("SELECT detail -> 'remaining_life' FROM incidents WHERE key = %s",
                       (key,)).fetchone()
    life = None if row is None else row[0]
    if not isinstance(life, dict) or life.get("days") is None:
        return None
    return {k: life.get(k) for k in ("days", "lo", "hi")}


def open_keys(conn: psycopg.Connection) -> list[str]:
    """The keys of the incidents that are open, updated or acknowledged (index
    incidents_state)."""
    return [r[0] for r in conn.execute("SELECT key FROM incidents WHERE state = ANY(%s)",
                                       (list(OPEN),)).fetchall()]


def open_count(conn: psycopg.Connection) -> int:
    """How many incidents are open, updated or acknowledged."""
    row = conn.execute("SELECT count(*) FROM incidents WHERE state = ANY(%s)",
                       (list(OPEN),)).fetchone()
    return int(row[0]) if row else 0


def incident_sources(conn: psycopg.Connection, since: datetime | None = None
                     ) -> dict[str, list[str]]:
    """The sources (rules, error codes, generic detectors) of each incident opened since
    `since` (default: all), by key; for `rules.precision`."""
    rows = conn.execute(
        """SELECT key, sources FROM incidents
           WHERE %(since)s::timestamptz IS NULL OR opened_at >= %(since)s""",
        {"since": since}).fetchall()
    return {r[0]: list(r[1]) for r in rows}
