"""`fixahead rules precision`'s figures from real incidents, technicians' outcome codes and
the customers' answers."""

from __future__ import annotations

import psycopg
import pytest

from dispatch.queries import incident_outcomes
from rules.precision import joined, per_rule
from rules.queries import fault_sources, incident_sources
from tests.support.board import now_utc, seed_job

pytestmark = pytest.mark.integration


def test_precision_per_rule_from_recorded_outcomes(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        now = now_utc()
        jobs = [seed_job(conn, now=now, suffix=s, technicians=1) for s in "ab"]
        seed_job(conn, now=now, suffix="c", technicians=1)  # visit not done: unjudged
        for job, outcome in zip(jobs, ("confirmed", "no_fault_found"), strict=True):
            conn.execute("INSERT INTO visit_work (visit_id, incident_id, outcome) "
                         "VALUES (%s, %s, %s)", (job.visit_id, job.incident_key, outcome))
        # The customers answered too: counted beside the technicians, not in their precision.
        conn.execute("INSERT INTO customer_feedback (incident_id, kind) VALUES "
                     "(%s, 'still_broken'), (%s, 'fixed')",
                     (jobs[1].incident_key, jobs[0].incident_key))
        rows = per_rule(joined(incident_sources(conn), incident_outcomes(conn)))
        # every one opened two hours before now
        since_later = joined(incident_sources(conn, now), incident_outcomes(conn))
    assert rows == [{"rule": "drum_motor_strain", "incidents": 3, "confirmed": 1,
                     "refuted": 1, "precision": 0.5, "customer_fixed": 1,
                     "customer_still_broken": 1}]
    assert since_later == []


def test_the_fault_and_sources_of_the_incidents_asked_for(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        job = seed_job(conn, now=now_utc(), technicians=1)
        found = fault_sources(conn, [job.incident_key, "no-such-incident"])
        assert fault_sources(conn, []) == {}
    assert found == {job.incident_key: ("E60", ["drum_motor_strain"])}
