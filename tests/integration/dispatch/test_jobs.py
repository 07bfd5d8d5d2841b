from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dispatch import adapter, jobs
from dispatch.availability import population_prior
from dispatch.availability_store import availability_for, load_availability, p_home_for
from dispatch.booking_store import confirm_visit
from dispatch.email.render import EmailSettings
from dispatch.email.sender import SmtpSettings
from dispatch.email.sink import SmtpSink
from dispatch.service import handle_incident
from dispatch.types import FaultInfo, IncidentInfo
from tests.support.dispatch import PORTS, add_customer, add_technicians

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 Berlin
MOTOR = FaultInfo("E50", "Motor fault", skill="washer")
EMAIL = EmailSettings(base_url="http://x", from_addr="s@fix.example", secret=b"k")


def connector(url: str):  # type: ignore[no-untyped-def]
    @contextmanager
    def connect() -> Iterator[psycopg.Connection]:
        with psycopg.connect(url, autocommit=True) as c:
            yield c
    return connect


def setup_visit(url: str, language: str = "en") -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        add_customer(conn, "cus-1", email="ada@example.org", language=language, device_id="d1")
        add_technicians(conn, 1)
        c = adapter.load_customer(conn, customer_id="cus-1")
        assert c
        out = handle_incident(conn, IncidentInfo("inc-1", "d1", "WM-800", MOTOR, NOW), c,
                              now=NOW, p_home=lambda _: 0.5)
        assert out.visit_id is not None
        return out.visit_id


def test_expire_holds_job_releases_stale_holds(database_url: str) -> None:
    vid = setup_visit(database_url)
    connect = connector(database_url)
    assert jobs.expire_holds(connect, lambda: NOW) == 0
    assert jobs.expire_holds(connect, lambda: NOW + timedelta(days=3)) == 1
    with connect() as conn:
        assert conn.execute("SELECT state FROM visits WHERE id = %s", (vid,)).fetchone() == (
            "released",)


def test_reminder_is_queued_once_the_day_before_and_delivered(database_url: str) -> None:
    vid = setup_visit(database_url, language="de")
    connect = connector(database_url)
    with connect() as conn:
        assert confirm_visit(conn, vid, now=NOW) == "booked"
        start = conn.execute("SELECT starts_at FROM visits WHERE id = %s", (vid,)).fetchone()[0]
    day_before = start - timedelta(hours=20)
    assert jobs.send_reminders(connect, lambda: day_before) == 1
    assert jobs.send_reminders(connect, lambda: day_before) == 0
    with SmtpSink() as sink:
        later = max(NOW, day_before) + timedelta(minutes=1)
        report = jobs.retry_outbox(connect, SmtpSettings(port=sink.port), EMAIL, lambda: later)
        assert report.sent == 2  # the proposal and the reminder
        msgs = [m.parsed() for m in sink.handler.wait_for(2)]
    reminder = next(m for m in msgs if m["Subject"].startswith("Morgen, "))
    assert any(p.get_content_type() == "text/calendar" for p in reminder.walk())


def test_availability_refresh_learns_from_usage_with_consent_only(database_url: str) -> None:
    connect = connector(database_url)
    with connect() as conn:
        add_customer(conn, "cus-1", email="a@example.org", device_id="d1", tz="Europe/Berlin")
        add_customer(conn, "cus-2", email="b@example.org", device_id="d2", consent_usage=False)
        dev = conn.execute("SELECT id FROM devices WHERE device_id = 'd1'").fetchone()[0]
        rows = []
        for week in range(6):  # Tuesdays 11:00-13:00 Berlin and every evening at 19:00
            tuesday = datetime(2026, 11, 17, 10, 10, tzinfo=UTC) - timedelta(weeks=week)
            rows += [tuesday + timedelta(hours=h) for h in range(3)]
            rows += [tuesday + timedelta(days=d - 1, hours=8) for d in range(7)]
        for seq, t in enumerate(rows):
            conn.execute("INSERT INTO events (time, device, seq, kind, state) "
                         "VALUES (%s, %s, %s, 'state', 'cycle_started')", (t, dev, seq))
    assert jobs.refresh_availability_job(connect, PORTS, lambda: NOW) == 1
    with connect() as conn:
        a = load_availability(conn, "cus-1")
        assert a is not None and a.events == len(rows)
        # quiet hours are weak evidence (issue 14): the used hour rises well above the other
        assert a.p_home[1 * 24 + 12] > a.p_home[3 * 24 + 12] + 0.15
        assert load_availability(conn, "cus-2") is None
        c = adapter.load_customer(conn, customer_id="cus-1")
        assert c is not None
        tuesday_noon = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
        p_home = p_home_for(conn, c, now=NOW, ports=PORTS)
        assert p_home(tuesday_noon) == pytest.approx(a.p_home[36])
        conn.execute("INSERT INTO consents (customer_id, kind, granted, source) "
                     "VALUES ('cus-1', 'usage_for_availability', false, 'test')")
    assert jobs.refresh_availability_job(connect, PORTS, lambda: NOW) == 0
    with connect() as conn:
        assert load_availability(conn, "cus-1") is None


def test_a_decision_learns_availability_itself_when_the_stored_model_is_stale(
        database_url: str) -> None:
    """In a simulation (event time) the 6-hourly refresh job may never have run: the
    booking recomputes a missing or stale model from usage at its own `now`."""
    connect = connector(database_url)
    with connect() as conn:
        add_customer(conn, "cus-1", email="a@example.org", device_id="d1", tz="UTC")
        dev = conn.execute("SELECT id FROM devices WHERE device_id = 'd1'").fetchone()[0]
        evenings = [NOW - timedelta(days=d, hours=-10) for d in range(1, 15)]  # 19:00 UTC
        for seq, t in enumerate(evenings):
            conn.execute("INSERT INTO events (time, device, seq, kind, state) "
                         "VALUES (%s, %s, %s, 'state', 'cycle_started')", (t, dev, seq))
        c = adapter.load_customer(conn, customer_id="cus-1")
        assert c is not None and load_availability(conn, "cus-1") is None
        p = p_home_for(conn, c, now=NOW, ports=PORTS)
        stored = load_availability(conn, "cus-1")
        assert stored is not None and stored.events == len(evenings)
        assert p(NOW + timedelta(hours=10)) > population_prior()[19] + 0.05  # the washer hour
        # the days of history behind it come back with it (the booking's margin needs them)
        fresh = availability_for(conn, c, now=NOW, ports=PORTS)
        assert stored.days == pytest.approx(fresh.days)
        # and so does how much its routine reads as home all day (the margin reads it too)
        assert stored.homebody == pytest.approx(fresh.homebody) and 0 < stored.homebody < 1
        assert 13 < stored.days < 15
        # a day later the stored model is stale: new usage at 08:00 is taken into account
        later = NOW + timedelta(days=1)
        for k in range(7):
            conn.execute("INSERT INTO events (time, device, seq, kind, state) "
                         "VALUES (%s, %s, %s, 'state', 'cycle_started')",
                         (later - timedelta(days=k, hours=1), dev, 100 + k))
        before = stored.p_home[(later.weekday()) * 24 + 8]
        p_home_for(conn, c, now=later, ports=PORTS)
        after = load_availability(conn, "cus-1")
        assert after is not None and after.events == len(evenings) + 7
        assert after.p_home[later.weekday() * 24 + 8] > before


def test_the_scheduler_runs_the_outbox_job(database_url: str) -> None:
    setup_visit(database_url)
    with SmtpSink() as sink:
        scheduler = jobs.build_scheduler(connector(database_url),
                                         smtp=SmtpSettings(port=sink.port), email=EMAIL,
                                         ports=PORTS, clock=lambda: NOW, outbox_every_s=0.2)
        assert {j.id for j in scheduler.get_jobs()} == {
            "retry_outbox", "expire_holds", "send_reminders", "refresh_availability"}
        scheduler.start()
        try:
            sink.handler.wait_for(1, timeout=10)
        finally:
            scheduler.shutdown(wait=True)
        time.sleep(0.1)
        assert sink.handler.raw_count == 1
