"""PostgreSQL reads of the board and the one write it makes: moving a job (adapter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fixahead.web.board import Job


@dataclass(frozen=True)
class TechRow:
    """A technician row of the board."""

    technician_id: int
    name: str
    territory: str
    skills: tuple[str, ...]


def technicians(conn: psycopg.Connection, *, territory: str | None = None,
                skill: str | None = None) -> list[TechRow]:
    """Active technicians, optionally of one territory or with one skill, by name."""
    rows = conn.execute(
        """SELECT id, name, territory, skills FROM technicians
           WHERE active AND (%(t)s::text IS NULL OR territory = %(t)s)
             AND (%(s)s::text IS NULL OR %(s)s = ANY (skills))
           ORDER BY name, id""", {"t": territory or None, "s": skill or None}).fetchall()
    return [TechRow(r[0], r[1], r[2], tuple(r[3])) for r in rows]


def filter_options(conn: psycopg.Connection) -> tuple[list[str], list[str]]:
    """Every territory and every skill of the active technicians."""
    row = conn.execute(
        """SELECT coalesce(array_agg(DISTINCT territory) FILTER (WHERE territory <> ''), '{}'),
                  coalesce((SELECT array_agg(DISTINCT s) FROM technicians,
                            unnest(skills) s WHERE active), '{}')
           FROM technicians WHERE active""").fetchone()
    assert row is not None
    return sorted(row[0]), sorted(row[1])


# a board job's columns; %(tz)s is the board's time zone (local labels come from PostgreSQL),
# %(names)s whether customers' names may be shown (not to viewers: no personal data)
JOB_COLUMNS = """v.id, v.technician_id, extract(epoch FROM v.starts_at)::float8,
    extract(epoch FROM v.ends_at)::float8, v.state, v.urgent, v.incident_id,
    coalesce(nullif(concat_ws(' · ', nullif(i.fault, ''),
                            CASE WHEN %(names)s THEN nullif(c.name, '') END), ''),
             v.incident_id),
    to_char(v.starts_at AT TIME ZONE %(tz)s, 'HH24:MI'),
    to_char(v.ends_at AT TIME ZONE %(tz)s, 'HH24:MI'),
    (extract(hour FROM v.starts_at AT TIME ZONE %(tz)s) * 60
     + extract(minute FROM v.starts_at AT TIME ZONE %(tz)s))::int,
    (extract(epoch FROM (v.ends_at AT TIME ZONE %(tz)s)
       - date_trunc('day', v.starts_at AT TIME ZONE %(tz)s)) / 60)::int"""
JOB_FROM = """FROM visits v LEFT JOIN incidents i ON i.key = v.incident_id
    LEFT JOIN customers c ON c.customer_id = v.customer_id"""


def jobs(conn: psycopg.Connection, technician_ids: list[int], start: datetime,
         end: datetime, *, now: datetime, tz: str = "UTC", names: bool = True) -> list[Job]:
    """Held (unexpired), booked and done visits of these technicians overlapping the window."""
    rows = conn.execute(
        f"""SELECT {JOB_COLUMNS} {JOB_FROM}
            WHERE v.technician_id = ANY (%(techs)s) AND v.starts_at < %(end)s
              AND v.ends_at > %(start)s
              AND (v.state IN ('booked', 'done')
                   OR (v.state = 'held' AND v.hold_expires_at > %(now)s))""",
        {"tz": tz, "techs": technician_ids, "start": start, "end": end, "now": now,
         "names": names},
        binary=True).fetchall()
    return [Job._make(r) for r in rows]


def unassigned(conn: psycopg.Connection, *, now: datetime, limit: int = 100,
               names: bool = True) -> list[dict[str, Any]]:
    """Jobs that need a person: no live visit (the search found none, or it lapsed), or
    the policy waits for a scheduler (no consent to email: call the customer)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT d.incident_id, d.action, d.urgent, d.decided_at, d.device_id,
                      d.fault_code,
                      CASE WHEN %s THEN coalesce(c.name, d.customer_id)
                           ELSE d.customer_id END AS customer
               FROM dispatch_decisions d
               LEFT JOIN customers c ON c.customer_id = d.customer_id
               LEFT JOIN incidents i ON i.key = d.incident_id
               WHERE d.action IN ('visit', 'urgent', 'wait_for_scheduler')
                 AND coalesce(i.state, 'open') NOT IN ('resolved', 'auto_cleared')
                 AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.incident_id = d.incident_id
                     AND (v.state IN ('booked', 'done')
                          OR (v.state = 'held' AND v.hold_expires_at > %s)))
               ORDER BY d.urgent DESC, d.decided_at LIMIT %s""",
            (names, now, limit)).fetchall()


def waiting_for_customer(conn: psycopg.Connection, *, now: datetime, limit: int = 50,
                         names: bool = True) -> list[dict[str, Any]]:
    """Proposed (held) visits the customer has not confirmed yet, soonest expiry first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT v.id, v.incident_id, v.starts_at, v.hold_expires_at, v.urgent,
                      CASE WHEN %s THEN coalesce(c.name, v.customer_id)
                           ELSE v.customer_id END AS customer
               FROM visits v LEFT JOIN customers c ON c.customer_id = v.customer_id
               WHERE v.state = 'held' AND v.hold_expires_at > %s
               ORDER BY v.hold_expires_at LIMIT %s""", (names, now, limit)).fetchall()
