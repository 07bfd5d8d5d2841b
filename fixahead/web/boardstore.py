"""The board's reads, composed (adapter): dispatch's rows (`dispatch.boardqueries`: its
technicians, the jobs of a window, the jobs that wait for a person) with rules' incidents.

Incidents are rules': their faults, states and devices come from `rules.queries.briefs`, one
query for all the incidents a board shows; which incidents are open, from
`rules.queries.open_keys`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from dispatch import boardqueries
from dispatch.boardqueries import FAULT, like
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
    return [TechRow(t.technician_id, t.name, t.territory, tuple(t.skills),
                    Shift(t.work_start, t.work_end, frozenset(t.work_days),
                          frozenset(t.days_off), t.tz))
            for t in boardqueries.technicians(conn)]


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


def _devices_like(conn: psycopg.Connection, devices: set[int], pattern: str | None
                  ) -> set[int]:
    """Those of these devices whose id matches the pattern (ILIKE)."""
    if not devices or pattern is None:
        return set()
    return {r[0] for r in conn.execute(
        "SELECT id FROM devices WHERE id = ANY (%s) AND device_id ILIKE %s",
        (list(devices), pattern)).fetchall()}


def with_faults(conn: psycopg.Connection, rows: Sequence[Sequence[Any]], *,
                q: str | None = None) -> list[tuple[Any, ...]]:
    """Rows of `dispatch.boardqueries.JOB_COLUMNS` (plus a last column, whether its SEARCH
    matched, when `q` is given) with each incident's fault ('' when unknown), from rules in
    one query; with `q`, only the rows SEARCH matched or whose incident's device id matches
    `q` (one more query)."""
    found = briefs(conn, list({r[6] for r in rows}))
    hits = _devices_like(conn, {b.device for b in found.values()}, like(q)) if q else set()
    out = []
    for r in rows:
        brief = found.get(r[6])
        if q and not r[-1] and (brief is None or brief.device not in hits):
            continue
        out.append((*r[:FAULT], brief.fault if brief else "",
                    *r[FAULT + 1:len(r) - 1 if q else len(r)]))
    return out


def jobs(conn: psycopg.Connection, technician_ids: list[int], start: datetime,
         end: datetime, *, now: datetime, tz: str = "UTC", names: bool = True,
         state: str | None = None, q: str | None = None) -> list[Job]:
    """Held (unexpired), booked and done visits of these technicians overlapping the window,
    of one state (or urgent) and matching a search when given."""
    # with a search, every job of the window comes back with whether SEARCH matched: a job
    # can match by its device, which only rules' incident knows (read in one more query)
    rows = boardqueries.job_rows(conn, technician_ids, start, end, now=now, names=names,
                                 state=state, q=q)
    return with_local_times(with_faults(conn, rows, q=q or None), tz)


def unassigned(conn: psycopg.Connection, *, now: datetime, limit: int = 100,
               names: bool = True, q: str | None = None) -> list[dict[str, Any]]:
    """Jobs that need a person (`dispatch.boardqueries.unassigned`) among the open incidents
    (rules' list, by index); one row per incident."""
    return boardqueries.unassigned(conn, open_keys(conn), now=now, limit=limit, names=names,
                                   q=q)
