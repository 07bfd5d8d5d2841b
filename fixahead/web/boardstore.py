"""PostgreSQL reads of the board and the one write it makes: moving a job (adapter).

Incidents are rules': their faults, states and devices come from `rules.queries.briefs`, one
query for all the incidents a board shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fixahead.web.board import Job, with_local_times
from fixahead.web.boardload import Shift
from rules.queries import briefs, open_keys


@dataclass(frozen=True)
class TechRow:
    """A technician row of the board, with when they work."""

    technician_id: int
    name: str
    territory: str
    skills: tuple[str, ...]
    shift: Shift


def technicians(conn: psycopg.Connection) -> list[TechRow]:
    """Every active technician, by name."""
    rows = conn.execute(
        """SELECT t.id, t.name, t.territory, t.skills, t.work_start, t.work_end, t.work_days,
                  t.tz, ARRAY(SELECT d.day FROM technician_days_off d
                              WHERE d.technician_id = t.id)
           FROM technicians t WHERE t.active ORDER BY t.name, t.id""").fetchall()
    return [TechRow(r[0], r[1], r[2], tuple(r[3]),
                    Shift(r[4], r[5], frozenset(r[6]), frozenset(r[8]), r[7])) for r in rows]


def of(techs: list[TechRow], *, territory: str | None = None,
       skill: str | None = None) -> list[TechRow]:
    """The technicians of one territory or with one skill (both, when both are given)."""
    return [t for t in techs if (not territory or t.territory == territory)
            and (not skill or skill in t.skills)]


def filter_options(techs: list[TechRow]) -> tuple[list[str], list[str]]:
    """Every territory and every skill of these technicians."""
    return (sorted({t.territory for t in techs if t.territory}),
            sorted({s for t in techs for s in t.skills}))


STATES = ("held", "booked", "done", "urgent")
# a board job's columns (local labels are added in Python: see `board.with_local_times`; the
# fault is rules', filled in by `with_faults`); %(names)s whether customers' names may be
# shown (not to viewers: no personal data)
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
# device, which only the incident knows: see `with_faults`)
SEARCH = """(n.number::text = ltrim(upper(%(q)s), 'J-')
    OR v.id::text = %(q)s OR v.incident_id = %(q)s
    OR c.city ILIKE %(like)s OR (%(names)s AND c.name ILIKE %(like)s))"""


def _like(q: str | None) -> str | None:
    if not q:
        return None
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _devices_like(conn: psycopg.Connection, devices: set[int], like: str | None) -> set[int]:
    """Those of these devices whose id matches the pattern (ILIKE)."""
    if not devices or like is None:
        return set()
    return {r[0] for r in conn.execute(
        "SELECT id FROM devices WHERE id = ANY (%s) AND device_id ILIKE %s",
        (list(devices), like)).fetchall()}


def with_faults(conn: psycopg.Connection, rows: Sequence[Sequence[Any]], *,
                q: str | None = None) -> list[tuple[Any, ...]]:
    """Rows of JOB_COLUMNS (plus a last column, whether SEARCH matched, when `q` is given)
    with each incident's fault ('' when unknown), from rules in one query; with `q`, only
    the rows SEARCH matched or whose incident's device id matches `q` (one more query)."""
    found = briefs(conn, list({r[6] for r in rows}))
    hits = _devices_like(conn, {b.device for b in found.values()}, _like(q)) if q else set()
    out = []
    for r in rows:
        brief = found.get(r[6])
        if q and not r[-1] and (brief is None or brief.device not in hits):
            continue
        out.append((*r[:FAULT], brief.fault if brief else "",
                    *r[FAULT + 1:len(r) - 1 if q else len(r)]))
    return out


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


def jobs(conn: psycopg.Connection, technician_ids: list[int], start: datetime,
         end: datetime, *, now: datetime, tz: str = "UTC", names: bool = True,
         state: str | None = None, q: str | None = None) -> list[Job]:
    """Held (unexpired), booked and done visits of these technicians overlapping the window,
    of one state (or urgent) and matching a search when given."""
    # with a search, every job of the window comes back with whether SEARCH matched: a job
    # can match by its device, which only rules' incident knows (read in one more query)
    rows = conn.execute(
        jobs_sql(state=bool(state), q=bool(q)),
        {"techs": technician_ids, "start": start, "end": end, "now": now,
         "names": names, "state": state, "q": q, "like": _like(q)},
        binary=True).fetchall()
    return with_local_times(with_faults(conn, rows, q=q or None), tz)


def unassigned(conn: psycopg.Connection, *, now: datetime, limit: int = 100,
               names: bool = True, q: str | None = None) -> list[dict[str, Any]]:
    """Jobs that need a person: an open incident whose latest decision sends a technician
    (or waits for a scheduler: no consent to email, call the customer) and that has no live
    visit (the search found none, or it lapsed); one row per incident."""
    # From the open incidents (rules' list, by index), each probing its decisions and visits
    # by index, not from every decision ever made: a year's 436,000 decisions and visits made
    # this list 650 ms (its search 1.2 s) as hash joins over both tables.
    keys = open_keys(conn)
    if not keys:
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
            {"names": names, "now": now, "limit": limit, "q": q, "like": _like(q),
             "keys": keys}).fetchall()


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
