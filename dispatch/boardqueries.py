"""What the scheduler's board reads of dispatch's tables (adapter): technicians with their
days off, the jobs of a window, the jobs that wait for a scheduler, the proposals that wait
for the customer. Plain rows; the web adds rules' faults and local times.

The board's queries were tuned (200 technicians, 2,000 jobs; a year's 436,000 decisions and
visits): one query for a window's jobs, filters added only when used, open incidents probing
their decisions and visits by index (LATERAL). Keep them so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, NamedTuple

import psycopg
from psycopg.rows import dict_row


class Technician(NamedTuple):
    """An active technician as the board shows them, with when they work."""

    technician_id: int
    name: str
    territory: str
    skills: list[str]
    work_start: time
    work_end: time
    work_days: list[int]  # Monday = 0
    tz: str
    days_off: list[date]


def technicians(conn: psycopg.Connection) -> list[Technician]:
    """Every active technician, by name, with their days off (one query)."""
    rows = conn.execute(
        """SELECT t.id, t.name, t.territory, t.skills, t.work_start, t.work_end, t.work_days,
                  t.tz, ARRAY(SELECT d.day FROM technician_days_off d
                              WHERE d.technician_id = t.id)
           FROM technicians t WHERE t.active ORDER BY t.name, t.id""").fetchall()
    return [Technician(*r) for r in rows]


# a board job's columns (the web fills the fault, rules', in FAULT, and adds local labels);
# %(names)s whether customers' names may be shown (not to viewers: no personal data)
JOB_COLUMNS = """v.id, v.technician_id, extract(epoch FROM v.starts_at)::float8,
    extract(epoch FROM v.ends_at)::float8, v.state, v.urgent, v.incident_id, n.number, '',
    CASE WHEN %(names)s THEN coalesce(split_part(c.name, ' ', -1), '') ELSE '' END,
    coalesce(c.city, ''), v.lat, v.lon"""
FAULT = 8  # the fault's place in a row of JOB_COLUMNS
JOB_FROM = """FROM visits v LEFT JOIN customers c ON c.customer_id = v.customer_id
    LEFT JOIN job_numbers n ON n.incident_id = v.incident_id"""
# The filters are added to a query only when they are used. Written as `%(q)s IS NULL OR ...`
# they were in every query, and once psycopg prepared it (from its fifth run on a connection)
# PostgreSQL's generic plan kept them: the board's jobs took 10 ms instead of 7, the list of
# jobs that need a scheduler 17 ms instead of 4 (200 technicians, 2,000 jobs).
STATE = """AND (v.state = %(state)s
    OR (%(state)s = 'urgent' AND v.urgent AND v.state <> 'done'))"""
LIST_SEARCH = """AND (n.number::text = ltrim(upper(%(q)s), 'J-')
    OR d.incident_id = %(q)s OR d.device_id ILIKE %(like)s
    OR c.city ILIKE %(like)s OR (%(names)s AND c.name ILIKE %(like)s))"""
# a search matches the job number, the visit, the incident, the customer, the town (and the
# device, which only the incident knows: the web matches it with rules' incidents)
SEARCH = """(n.number::text = ltrim(upper(%(q)s), 'J-')
    OR v.id::text = %(q)s OR v.incident_id = %(q)s
    OR c.city ILIKE %(like)s OR (%(names)s AND c.name ILIKE %(like)s))"""


def like(q: str | None) -> str | None:
    """An ILIKE pattern that finds `q` anywhere, its wildcards escaped (None without `q`)."""
    if not q:
        return None
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def jobs_sql(*, state: bool = False, q: bool = False) -> str:
    """The board's query for the jobs of a window, with the state filter only when it is
    used, and with a search whether SEARCH matched as a last column. The window is an
    overlap of ranges: index visits_board_span."""
    return f"""SELECT {JOB_COLUMNS}{f", {SEARCH}" if q else ""} {JOB_FROM}
        WHERE v.technician_id = ANY (%(techs)s)
          AND tstzrange(v.starts_at, v.ends_at) && tstzrange(%(start)s, %(end)s)
          AND (v.state IN ('booked', 'done')
               OR (v.state = 'held' AND v.hold_expires_at > %(now)s))
          {STATE if state else ""}"""


def job_rows(conn: psycopg.Connection, technician_ids: list[int], start: datetime,
             end: datetime, *, now: datetime, names: bool = True, state: str | None = None,
             q: str | None = None) -> list[tuple[Any, ...]]:
    """Rows of JOB_COLUMNS (the fault empty) of the held (unexpired), booked and done visits
    of these technicians overlapping the window, of one state (or urgent) when given; with a
    search, every such row with whether SEARCH matched as a last column (one query)."""
    return conn.execute(
        jobs_sql(state=bool(state), q=bool(q)),
        {"techs": technician_ids, "start": start, "end": end, "now": now,
         "names": names, "state": state, "q": q, "like": like(q)},
        binary=True).fetchall()


def unassigned(conn: psycopg.Connection, open_keys: Sequence[str], *, now: datetime,
               limit: int = 100, names: bool = True, q: str | None = None
               ) -> list[dict[str, Any]]:
    """Jobs that need a person: of these open incidents (rules' list), those whose latest
    decision sends a technician (or waits for a scheduler: no consent to email, call the
    customer) and that have no live visit (the search found none, or it lapsed); one row per
    incident, urgent first, then the oldest decision."""
    # From the open incidents, each probing its decisions and visits by index, not from
    # every decision ever made: a year's 436,000 decisions and visits made this list 650 ms
    # (its search 1.2 s) as hash joins over both tables.
    if not open_keys:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"""SELECT d.incident_id, d.action, d.urgent, d.decided_at, d.device_id,
                      d.fault_code, n.number AS job_no, coalesce(c.city, '') AS town,
                      CASE WHEN %(names)s THEN coalesce(c.name, d.customer_id)
                           ELSE d.customer_id END AS customer
               FROM unnest(%(keys)s::text[]) AS i(key)
               CROSS JOIN LATERAL (
                   SELECT * FROM dispatch_decisions d WHERE d.incident_id = i.key
                     AND d.action IN ('visit', 'urgent', 'wait_for_scheduler')
                     AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.incident_id = i.key
                         AND (v.state IN ('booked', 'done')
                              OR (v.state = 'held' AND v.hold_expires_at > %(now)s)))
                   ORDER BY d.id DESC LIMIT 1) d
               LEFT JOIN customers c ON c.customer_id = d.customer_id
               LEFT JOIN job_numbers n ON n.incident_id = d.incident_id
               WHERE TRUE {LIST_SEARCH if q else ""}
               ORDER BY d.urgent DESC, d.decided_at LIMIT %(limit)s""",
            {"names": names, "now": now, "limit": limit, "q": q, "like": like(q),
             "keys": list(open_keys)}).fetchall()


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
