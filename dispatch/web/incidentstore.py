"""Incidents as people see and change them: list, acknowledge, resolve, snooze (adapter).

A change bumps the incident's `version` and appends to `incident_changes`, the same way the
rule engine writes, so a stale engine write (lower version) cannot undo it. A snooze is a row
in `incident_mutes`, which rule workers load when they take over devices.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from devices.audit import audit

OPEN = ("open", "updated", "acknowledged")
_COLUMNS = """i.key, i.device, d.device_id, d.model_id, i.fault, i.kind, i.severity, i.action,
              i.title, i.state, i.opened_at, i.updated_at, i.closed_at, i.sources, i.flaps"""


class IncidentRefused(Exception):
    """The change does not fit the incident's state."""


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


def _change(conn: psycopg.Connection, key: str, *, state: str, allowed: tuple[str, ...],
            now: datetime, actor: str, closed: bool) -> None:
    with conn.transaction():
        row = conn.execute("SELECT state FROM incidents WHERE key = %s FOR UPDATE",
                           (key,)).fetchone()
        if row is None:
            raise IncidentRefused(f"there is no incident {key!r}")
        if row[0] not in allowed:
            raise IncidentRefused(f"incident {key} is {row[0]}; it cannot become {state}")
        version = conn.execute(
            """UPDATE incidents SET state = %s, updated_at = %s, version = version + 1,
                      closed_at = CASE WHEN %s THEN %s ELSE closed_at END
               WHERE key = %s RETURNING version""", (state, now, closed, now, key)).fetchone()
        assert version is not None
        conn.execute("INSERT INTO incident_changes (key, version, change, at) "
                     "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                     (key, version[0], state, now))
        audit(conn, actor=actor, action=f"incident.{state}", subject_type="incident",
              subject_id=key)


def acknowledge(conn: psycopg.Connection, key: str, *, now: datetime, actor: str) -> None:
    """A person has seen the incident."""
    _change(conn, key, state="acknowledged", allowed=("open", "updated"), now=now, actor=actor,
            closed=False)


def resolve(conn: psycopg.Connection, key: str, *, now: datetime, actor: str) -> None:
    """A person closed the incident."""
    _change(conn, key, state="resolved", allowed=OPEN, now=now, actor=actor, closed=True)


def snooze(conn: psycopg.Connection, key: str, *, hours: float, now: datetime,
           actor: str) -> datetime:
    """Mute new evidence of this fault on this device for `hours`; when the snooze ends."""
    if not 0 < hours <= 24 * 30:
        raise IncidentRefused("a snooze lasts between a minute and 30 days")
    until = now + timedelta(hours=hours)
    with conn.transaction():
        row = conn.execute("SELECT device, fault FROM incidents WHERE key = %s",
                           (key,)).fetchone()
        if row is None:
            raise IncidentRefused(f"there is no incident {key!r}")
        conn.execute("INSERT INTO incident_mutes (device, fault, starts_at, ends_at, reason) "
                     "VALUES (%s, %s, %s, %s, 'snooze')", (row[0], row[1], now, until))
        audit(conn, actor=actor, action="incident.snooze", subject_type="incident",
              subject_id=key, detail={"until": until.isoformat()})
    return until
