"""The board's reads on a real PostgreSQL: which visits a window shows (an overlap of ranges,
served by an index), and which jobs wait for a scheduler (open incidents, once each)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dispatch import boardqueries
from fixahead.web import boardstore
from tests.support.board import Seeded, now_utc, seed_job

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


@pytest.fixture
def job(conn: psycopg.Connection) -> Seeded:
    return seed_job(conn, now=now_utc(), technicians=2)


def _visit(conn: psycopg.Connection, tech: int, start: datetime, end: datetime,
           state: str = "done") -> int:
    row = conn.execute(
        """INSERT INTO visits (technician_id, incident_id, customer_id, starts_at, ends_at,
                               state, lat, lon, skill)
           VALUES (%s, 'other', 'cus-1', %s, %s, %s, 52.5, 13.4, 'electrical') RETURNING id""",
        (tech, start, end, state)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_window_shows_every_visit_that_overlaps_it_and_none_that_only_touches_it(
        conn: psycopg.Connection, job: Seeded) -> None:
    tech = job.technicians[1]
    day = datetime(2026, 3, 10, tzinfo=UTC)
    night = _visit(conn, tech, day - timedelta(hours=1), day + timedelta(hours=1))
    inside = _visit(conn, tech, day + timedelta(hours=9), day + timedelta(hours=10))
    late = _visit(conn, tech, day + timedelta(hours=23), day + timedelta(hours=25))
    _visit(conn, tech, day - timedelta(hours=2), day)  # ends as the day starts
    _visit(conn, tech, day + timedelta(days=1), day + timedelta(days=1, hours=1))  # after
    _visit(conn, tech, day + timedelta(hours=12), day + timedelta(hours=13), state="cancelled")
    found = boardstore.jobs(conn, [tech], day, day + timedelta(days=1), now=now_utc())
    assert sorted(j.visit_id for j in found) == sorted([night, inside, late])
    # the same with the state filter and the search, which join the query only when used
    done = boardstore.jobs(conn, [tech], day, day + timedelta(days=1), now=now_utc(),
                           state="done", q="Berlin")
    assert sorted(j.visit_id for j in done) == sorted([night, inside, late])


def test_the_window_is_found_through_the_range_index(conn: psycopg.Connection,
                                                     job: Seeded) -> None:
    # a few rows read faster without an index; with sequential scans priced out the plan
    # shows whether the query can use visits_board_span at all (a year of history: it must)
    params = {"techs": job.technicians, "start": datetime(2026, 3, 10, tzinfo=UTC),
              "end": datetime(2026, 3, 11, tzinfo=UTC), "now": now_utc(), "names": True,
              "q": "x", "like": "%x%"}
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        for q in (False, True):  # the board as it opens, and a search
            plan = "\n".join(r[0] for r in conn.execute(
                "EXPLAIN " + boardqueries.jobs_sql(q=q), params).fetchall())
            assert "visits_board_span" in plan, plan


def test_the_list_for_a_scheduler_has_each_open_incident_without_a_live_visit_once(
        conn: psycopg.Connection, job: Seeded) -> None:
    now = now_utc()
    assert boardstore.unassigned(conn, now=now) == []  # its visit is held
    conn.execute("UPDATE visits SET state = 'released' WHERE id = %s", (job.visit_id,))
    (first,) = boardstore.unassigned(conn, now=now)
    assert (first["incident_id"], first["action"], first["town"]) == (
        job.incident_key, "visit", "Berlin")
    # a later decision on the same incident: still one row, the later decision's
    conn.execute("""INSERT INTO dispatch_decisions (idempotency_key, incident_id, customer_id,
                        action, delivery, device_id, fault_code, urgent, decided_at)
                    VALUES ('again', %s, %s, 'urgent', 'now', %s, 'E60', true, %s)""",
                 (job.incident_key, job.customer_id, job.device_id, now))
    (again,) = boardstore.unassigned(conn, now=now)
    assert (again["incident_id"], again["action"], again["urgent"]) == (
        job.incident_key, "urgent", True)
    assert [u["incident_id"] for u in boardstore.unassigned(conn, now=now, q="berlin")] == [
        job.incident_key]
    assert boardstore.unassigned(conn, now=now, q="Potsdam") == []
    conn.execute("UPDATE incidents SET state = 'resolved' WHERE key = %s", (job.incident_key,))
    assert boardstore.unassigned(conn, now=now) == []
