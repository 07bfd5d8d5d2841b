"""What dispatch stored, as the web and the CLI read it through `dispatch.queries`: jobs,
their history, technicians, the customer's answers and the email outbox."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest
import typer

from dispatch import jobactions
from dispatch import queries as q
from dispatch.outbox import enqueue
from fixahead.commands import dispatch as dispatch_commands
from tests.support.board import now_utc, seed_job
from tests.support.cli import invoke
from tests.support.dispatch import PORTS

pytestmark = pytest.mark.integration


def test_jobs_are_paged_and_filtered_with_their_technician(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        now = now_utc()
        a, b = (seed_job(conn, now=now, suffix=s, technicians=1) for s in "ab")
        every = q.jobs(conn, after=0, limit=10)
        assert [j["id"] for j in every] == sorted([a.visit_id, b.visit_id])
        assert q.jobs(conn, after=a.visit_id, limit=10) == every[1:]
        assert len(q.jobs(conn, after=0, limit=1)) == 1
        assert q.jobs(conn, after=0, limit=10, incident_id=b.incident_key) == [
            q.job(conn, b.visit_id)]
        assert q.jobs(conn, after=0, limit=10, state="booked") == []
        assert q.jobs(conn, after=0, limit=10, starts_until=now) == []
        one = q.job(conn, a.visit_id)
        assert one is not None and one["technician"] == "Tech a-0" and one["outcome"] is None
        assert set(one) == {"id", "incident_id", "technician_id", "technician", "customer_id",
                            "state", "urgent", "starts_at", "ends_at", "hold_expires_at",
                            "skill", "parts", "outcome"}
        assert q.job(conn, 10**9) is None
        assert q.visit_incident(conn, a.visit_id) == a.incident_key
        assert q.visit_incident(conn, 10**9) is None


def test_a_job_page_reads_the_visit_its_decisions_number_emails_and_history(
        database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        now = now_utc()
        job = seed_job(conn, now=now)
        visit = q.job_visit(conn, job.incident_key)
        assert visit is not None and visit["id"] == job.visit_id
        assert visit["technician_skills"] == ["electrical", "plumbing"]
        assert q.job_visit(conn, job.incident_key, job.visit_id) == visit
        (decision,) = q.decisions(conn, job.incident_key)
        assert decision["action"] == "visit" and decision["fault_code"] == "E60"
        assert q.self_help_given(conn, job.device_id, "E60") == []
        assert q.job_number(conn, job.incident_key) == 1
        assert q.job_number(conn, "no-such-incident") is None
        (email,) = q.incident_emails(conn, job.incident_key)
        assert email["kind"] == "visit" and email["payload"]["incident_id"] == job.incident_key
        assert q.visit_audit(conn, job.incident_key) == []
        jobactions.dispatch_job(conn, job.incident_key, actor="user:1:Sam", now=now,
                                ports=PORTS)
        ((_, actor, action, subject, _),) = q.visit_audit(conn, job.incident_key)
        assert (actor, action, subject) == ("user:1:Sam", "job.dispatch", str(job.visit_id))
        assert q.technician_names(conn) == {t: f"Tech 1-{i}"
                                            for i, t in enumerate(job.technicians)}


def test_the_customers_answers_come_link_uses_first_then_feedback(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        job = seed_job(conn, now=now_utc())
        conn.execute("INSERT INTO customer_feedback (incident_id, kind) VALUES (%s, 'fixed')",
                     (job.incident_key,))
        for subject, action, at in ((str(job.visit_id), "confirm", 2),
                                    (job.incident_key, "fixed", 1), ("other", "confirm", 0)):
            conn.execute("INSERT INTO link_uses (token_hash, subject, action, outcome, used_at) "
                         "VALUES (%s, %s, %s, 'ok', now() - %s * interval '1 hour')",
                         (f"h{at}".encode(), subject, action, at))
        answers = q.customer_answers(conn, job.incident_key,
                                     [job.incident_key, str(job.visit_id)])
    assert [(a["action"], a["outcome"]) for a in answers] == [
        ("confirm", "ok"), ("fixed", "ok"), ("fixed", "recorded")]


def test_technicians_are_paged_filtered_and_their_hours_given_as_text(
        database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        job = seed_job(conn, now=now_utc(), technicians=3)
        conn.execute("UPDATE technicians SET active = false WHERE id = %s",
                     (job.technicians[2],))
        everyone = q.technicians(conn, after=0, limit=10)
        assert [t["id"] for t in everyone] == job.technicians
        assert everyone[0] == {"id": job.technicians[0], "name": "Tech 1-0",
                               "skills": ["electrical", "plumbing"], "territory": "north",
                               "tz": "UTC", "work_start": "00:00", "work_end": "23:59",
                               "work_days": [0, 1, 2, 3, 4, 5, 6], "active": True}
        assert [t["id"] for t in q.technicians(conn, after=0, limit=10, active=True)] == \
            job.technicians[:2]
        assert [t["id"] for t in q.technicians(conn, after=0, limit=10, territory="south")] == \
            [job.technicians[1]]
        assert q.technicians(conn, after=0, limit=10, skill="gas") == []
        assert q.technicians(conn, after=job.technicians[0], limit=1) == [everyone[1]]
        assert q.technician(conn, job.technicians[1]) == everyone[1]
        assert q.technician(conn, 10**9) is None


def _cli() -> typer.Typer:
    app = typer.Typer()
    dispatch_commands.register(app)

    @app.callback()
    def _root() -> None:
        """Keep `dispatch` a sub-command."""

    return app


def test_the_outbox_by_state_newest_first_and_one_email_whole(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        now = now_utc()
        ids = [enqueue(conn, key=f"k{i}", kind="visit", customer_id="cus-1",
                       to_addr=f"c{i}@example.org", language="en", payload={"n": i},
                       send_at=now + timedelta(minutes=i)) for i in range(3)]
        conn.execute("UPDATE email_outbox SET state = 'failed', last_error = 'bounced' "
                     "WHERE id = %s", (ids[1],))
        assert q.outbox_counts(conn) == {"pending": 2, "failed": 1}
        assert [r["id"] for r in q.outbox(conn)] == ids[::-1]
        assert [r["id"] for r in q.outbox(conn, limit=2)] == ids[:0:-1]
        (failed,) = q.outbox(conn, state="failed")
        assert failed["last_error"] == "bounced" and "payload" not in failed
        email = q.outbox_email(conn, ids[2])
        assert email is not None and email["payload"] == {"n": 2}
        assert q.outbox_email(conn, 10**9) is None
    code, out = invoke(_cli(), ["dispatch", "outbox", "--json"],
                       {"FIXAHEAD_DATABASE_URL": database_url, "FIXAHEAD_LOG_LEVEL": "WARNING"})
    assert code == 0, out
    assert json.loads(out) == {"counts": {"pending": 2, "failed": 1}, "failed": [
        {"id": ids[1], "to": "c1@example.org", "error": "bounced"}]}


def test_verdicts_count_each_incidents_work_and_answers(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        now = now_utc()
        a, b, c = (seed_job(conn, now=now, suffix=s, technicians=1) for s in "abc")
        conn.execute("INSERT INTO visit_work (visit_id, incident_id, outcome) VALUES "
                     "(%s, %s, 'other_fault'), (%s, %s, NULL)",
                     (a.visit_id, a.incident_key, b.visit_id, b.incident_key))
        conn.execute("INSERT INTO customer_feedback (incident_id, kind) VALUES "
                     "(%s, 'fixed'), (%s, 'still_broken')", (a.incident_key, c.incident_key))
        verdicts = q.incident_verdicts(conn)
    assert verdicts == {
        a.incident_key: {"visits": 1, "confirmed": 0, "wrong": 1, "answers": 1,
                         "customer_fixed": 1, "customer_still_broken": 0},
        b.incident_key: {"visits": 1, "confirmed": 0, "wrong": 0, "answers": 0,
                         "customer_fixed": 0, "customer_still_broken": 0},
        c.incident_key: {"visits": 0, "confirmed": 0, "wrong": 0, "answers": 1,
                         "customer_fixed": 0, "customer_still_broken": 1}}
