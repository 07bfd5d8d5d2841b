"""Through the database: a household on vacation gets a non-urgent visit after its return,
an urgent one at once, and an email that says "when you are back" (English and German)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dispatch.email.render import EmailSettings, render
from dispatch.outbox import _ROW, OutboxRow
from dispatch.service import dispatch_incident, household_away_until
from tests.support.dispatch import PORTS, add_customer, add_technicians

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Berlin
EMAIL = EmailSettings(base_url="http://127.0.0.1:8000", from_addr="service@fix.example",
                      secret=b"test-secret", domain="fix.example")


@pytest.fixture
def conn(database_url: str) -> psycopg.Connection:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def usage(conn: psycopg.Connection, device_id: str, *, days: int, silent_days: int) -> None:
    """Washer cycles and door openings 4 times a day for `days`, the last `silent_days` none."""
    dev = conn.execute("SELECT id FROM devices WHERE device_id = %s", (device_id,)).fetchone()
    assert dev is not None
    start = NOW.replace(hour=0) - timedelta(days=days)
    rows = []
    for d in range(days - silent_days):
        for n, hour in enumerate((6, 12, 17, 20)):
            rows.append((start + timedelta(days=d, hours=hour), dev[0], d * 10 + n))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO events (time, device, seq, kind, state) "
                        "VALUES (%s, %s, %s, 'state', 'cycle_started')", rows)


def technicians(conn: psycopg.Connection) -> None:
    """Berlin technicians for the WM-800's motor (electrical) and leak (plumbing) codes."""
    add_technicians(conn, 2, skill="electrical")
    add_technicians(conn, 2, skill="plumbing")


def outbox_row(conn: psycopg.Connection, outbox_id: int) -> OutboxRow:
    r = conn.execute(f"SELECT {_ROW} FROM email_outbox WHERE id = %s", (outbox_id,)).fetchone()
    assert r is not None
    return OutboxRow(*r)


def visit_start(conn: psycopg.Connection, visit_id: int) -> datetime:
    row = conn.execute("SELECT starts_at FROM visits WHERE id = %s", (visit_id,)).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize(("language", "phrase"), [("en", "when you are back"),
                                                  ("de", "wenn Sie zurück sind")])
def test_a_non_urgent_fault_during_a_vacation_gets_a_visit_after_the_return(
        conn: psycopg.Connection, language: str, phrase: str) -> None:
    add_customer(conn, "cus-away", email="ada@example.org", language=language, device_id="wm-a")
    technicians(conn)
    usage(conn, "wm-a", days=42, silent_days=5)
    customer_back = household_away_until(conn, _customer(conn, "wm-a"), now=NOW, ports=PORTS)
    assert customer_back is not None and customer_back > NOW + timedelta(days=1)
    out = dispatch_incident(conn, incident_id="inc-motor", device_id="wm-a", model_id="WM-800",
                            code="E60", now=NOW, ports=PORTS)
    assert out is not None and out.visit_id is not None and out.outbox_id is not None
    assert out.decision.away_until == customer_back
    assert visit_start(conn, out.visit_id) >= customer_back
    row = outbox_row(conn, out.outbox_id)
    assert row.payload["away"]["until"] == customer_back.isoformat()
    msg = render(row, EMAIL)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert phrase in text and phrase in html


def test_an_urgent_fault_during_a_vacation_is_still_booked_at_once(
        conn: psycopg.Connection) -> None:
    add_customer(conn, "cus-leak", email="bo@example.org", device_id="wm-l")
    technicians(conn)
    usage(conn, "wm-l", days=42, silent_days=5)
    out = dispatch_incident(conn, incident_id="inc-leak", device_id="wm-l", model_id="WM-800",
                            code="E90", now=NOW, ports=PORTS)
    assert out is not None and out.visit_id is not None and out.decision.urgent
    assert out.decision.away_until is None
    assert visit_start(conn, out.visit_id) < NOW + timedelta(hours=12)
    msg = render(outbox_row(conn, out.outbox_id or 0), EMAIL)
    assert "when you are back" not in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_household_at_home_gets_its_visit_within_the_usual_days(
        conn: psycopg.Connection) -> None:
    add_customer(conn, "cus-home", email="cy@example.org", device_id="wm-h")
    technicians(conn)
    usage(conn, "wm-h", days=42, silent_days=0)
    out = dispatch_incident(conn, incident_id="inc-home", device_id="wm-h", model_id="WM-800",
                            code="E60", now=NOW, ports=PORTS)
    assert out is not None and out.visit_id is not None and out.decision.away_until is None
    assert visit_start(conn, out.visit_id) < NOW + timedelta(days=4)


def test_without_usage_consent_the_absence_is_not_looked_at(conn: psycopg.Connection) -> None:
    add_customer(conn, "cus-priv", email="di@example.org", device_id="wm-p",
                 consent_usage=False)
    usage(conn, "wm-p", days=42, silent_days=5)
    assert household_away_until(conn, _customer(conn, "wm-p"), now=NOW, ports=PORTS) is None


def _customer(conn: psycopg.Connection, device_id: str):  # type: ignore[no-untyped-def]
    from dispatch.adapter import load_customer

    c = load_customer(conn, device_id=device_id)
    assert c is not None
    return c


def test_a_proposed_visit_asks_the_device_for_a_snapshot_for_the_technician(
        conn: psycopg.Connection) -> None:
    from devices.diagnostics_store import requests_for

    add_customer(conn, "cus-snap", email="ed@example.org", device_id="wm-s")
    technicians(conn)
    conn.execute("UPDATE devices SET online = false WHERE device_id = 'wm-s'")
    out = dispatch_incident(conn, incident_id="inc-snap", device_id="wm-s", model_id="WM-800",
                            code="E60", now=NOW, ports=PORTS)
    assert out is not None and out.visit_id is not None
    asked = requests_for(conn, visit_id=out.visit_id)
    assert len(asked) == 1 and asked[0].incident_id == "inc-snap"
    assert asked[0].kind.value == "diagnostics_snapshot" and asked[0].state.value == "pending"
    assert asked[0].expires_at <= visit_start(conn, out.visit_id)
