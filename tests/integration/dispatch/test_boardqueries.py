"""The board's reads of dispatch's tables: technicians with their days off, and the jobs that
wait for a person among the open incidents the caller names (rules' list)."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from dispatch import boardqueries
from tests.support.board import now_utc, seed_job

pytestmark = pytest.mark.integration


def test_active_technicians_come_by_name_with_their_days_off(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        job = seed_job(conn, now=now_utc(), technicians=3)
        first, second, third = job.technicians
        conn.execute("INSERT INTO technician_days_off (technician_id, day) VALUES (%s, %s)",
                     (second, date(2030, 1, 2)))
        conn.execute("UPDATE technicians SET active = false WHERE id = %s", (third,))
        techs = boardqueries.technicians(conn)
    assert [(t.technician_id, t.name, t.days_off) for t in techs] == [
        (first, "Tech 1-0", []), (second, "Tech 1-1", [date(2030, 1, 2)])]
    assert set(techs[0].skills) == {"electrical", "plumbing"}
    assert sorted(techs[0].work_days) == list(range(7))


def test_only_the_named_open_incidents_are_listed_for_a_scheduler(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        now = now_utc()
        job = seed_job(conn, now=now)
        conn.execute("UPDATE visits SET state = 'released' WHERE id = %s", (job.visit_id,))
        assert boardqueries.unassigned(conn, [], now=now) == []
        assert boardqueries.unassigned(conn, ["another-incident"], now=now) == []
        (row,) = boardqueries.unassigned(conn, [job.incident_key], now=now, names=False)
    assert (row["incident_id"], row["action"], row["customer"]) == (
        job.incident_key, "visit", job.customer_id)
