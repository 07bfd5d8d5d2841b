"""The board's reads: rules' incidents joined in Python by one batched query."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from fixahead.web import boardstore
from tests.support.board import now_utc, seed_job

pytestmark = pytest.mark.integration


def test_jobs_carry_their_incidents_fault_and_are_found_by_device(database_url: str) -> None:
    now = now_utc()
    with psycopg.connect(database_url, autocommit=True) as conn:
        job = seed_job(conn, now=now)
        other = seed_job(conn, now=now, suffix="2")
        techs = job.technicians + other.technicians
        window = (now - timedelta(days=1), now + timedelta(days=30))

        def shown(q: str | None) -> dict[int, str]:
            return {j.visit_id: j.fault
                    for j in boardstore.jobs(conn, techs, *window, now=now, q=q)}

        assert shown(None) == {job.visit_id: "E60", other.visit_id: "E60"}
        assert shown(job.device_id.upper()) == {job.visit_id: "E60"}  # ILIKE: any case
        assert shown("Quellmalz 2") == {other.visit_id: "E60"}  # the SQL half of the search
        assert shown("no-such-device") == {}


def test_unassigned_leaves_out_resolved_incidents_and_keeps_the_limit(database_url: str) -> None:
    now = now_utc()
    with psycopg.connect(database_url, autocommit=True) as conn:
        jobs = [seed_job(conn, now=now, suffix=str(i)) for i in range(3)]
        conn.execute("UPDATE visits SET state = 'cancelled'")  # no live visit: a person's job

        def listed(limit: int = 100) -> list[str]:
            return [r["incident_id"] for r in boardstore.unassigned(conn, now=now, limit=limit)]

        everything = listed()
        assert sorted(everything) == sorted(j.incident_key for j in jobs)
        conn.execute("UPDATE incidents SET state = 'resolved' WHERE key = %s",
                     (everything[0],))
        assert listed() == everything[1:]
        assert listed(limit=1) == everything[1:2]
        device = {j.incident_key: j.device_id for j in jobs}
        for key in everything:
            found = boardstore.unassigned(conn, now=now, q=device[key])
            assert [r["incident_id"] for r in found] == ([] if key == everything[0] else [key])
