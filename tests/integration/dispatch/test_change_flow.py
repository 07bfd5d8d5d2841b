"""One coherent flow for every change of a visit: customer links and schedulers, one email each,
the calendar entry updated, old links truthful, concurrent clicks serialised."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage

import icalendar
import psycopg
import pytest

from devices.catalog import load_catalog
from dispatch import actions, adapter, appointments, booking_store
from dispatch.advice import fault_info
from dispatch.email.render import EmailSettings
from dispatch.email.sender import SmtpSettings, deliver_due
from dispatch.email.sink import SmtpSink
from dispatch.links import pick_subject, sign, verify
from dispatch.service import handle_incident
from dispatch.types import FaultInfo, IncidentInfo
from tests.support.customer_pages import MOTOR, NOW, SECRET, Env
from tests.support.dispatch import PORTS, add_customer, add_technicians

pytestmark = pytest.mark.integration
EMAIL = EmailSettings(base_url="http://127.0.0.1:8000", from_addr="service@fix.example",
                      secret=SECRET, domain="fix.example")
DRAIN = FaultInfo("E21", "Water does not drain", customer_fixable=True, skill="plumbing",
                  self_help_steps=("Clean the filter.",))


def setup(url: str, fault: FaultInfo = MOTOR, **kw: object) -> tuple[int | None, int | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        add_customer(conn, "cus-1", email="ada@example.org", device_id="d1", **kw)  # type: ignore[arg-type]
        add_technicians(conn, skill=fault.skill)
        c = adapter.load_customer(conn, customer_id="cus-1")
        assert c
        out = handle_incident(conn, IncidentInfo("inc-1", "d1", "WM-800", fault, NOW,
                                                 appliance_kind="washer"),
                              c, now=NOW, p_home=lambda _: 0.5)
        return out.visit_id, out.outbox_id


def deliver(url: str, at: datetime, n: int) -> list[EmailMessage]:
    with SmtpSink() as sink, psycopg.connect(url, autocommit=True) as conn:
        report = deliver_due(conn, SmtpSettings(port=sink.port), EMAIL, clock=lambda: at)
        assert report.sent == n
        return [m.parsed() for m in sink.handler.wait_for(n)] if n else []


def event(msg: EmailMessage) -> tuple[str, icalendar.cal.Component]:
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    [ev] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    return str(part.get_param("method")), ev


def urls(msg: EmailMessage) -> dict[str, list[str]]:
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    out: dict[str, list[str]] = {}
    for url in re.findall(r"http://127\.0\.0\.1:8000(/c/\S+)", text):
        out.setdefault(verify(SECRET, url.rsplit("/", 1)[1], now=NOW).action, []).append(url)
    return out


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0


def test_a_pick_then_an_old_cancel_link_update_one_calendar_entry(env: Env) -> None:
    setup(env.url)
    [proposal] = deliver(env.url, NOW, 1)
    method, first = event(proposal)
    assert (method, first["sequence"], str(first["status"])) == ("REQUEST", 0, "TENTATIVE")
    links = urls(proposal)
    assert len(links["pick"]) == 2 and len(links["confirm"]) == 1
    page = env.client.get(links["pick"][1])
    assert "Take this time instead?" in page.text and "Technician" in page.text
    assert "Your visit is confirmed" in env.client.post(links["pick"][1]).text
    # the customer chose another time: evidence for their household's availability
    assert count(env.url, "SELECT count(*) FROM availability_outcomes "
                          "WHERE kind = 'picked_another' AND chosen_start IS NOT NULL") == 1
    [moved] = deliver(env.url, NOW, 1)
    method, second = event(moved)
    assert moved["Subject"].startswith("New time: technician visit on ")
    assert (method, second["sequence"], str(second["status"])) == ("REQUEST", 1, "CONFIRMED")
    assert str(second["uid"]) == str(first["uid"])
    assert second.decoded("dtstart") != first.decoded("dtstart")
    old = env.client.get(links["confirm"][0])  # names where the visit went, with live links
    when = re.search(r"This visit was moved to ([^<]+)<", old.text)
    assert when and when.group(1) in moved.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Washing machine" in old.text or "washing machine" in old.text
    cancelled = env.client.post(links["cancel"][0])  # the first email's cancel link still works
    assert "Your visit is cancelled" in cancelled.text
    [gone] = deliver(env.url, NOW, 1)
    method, third = event(gone)
    assert (method, third["sequence"], str(third["status"])) == ("CANCEL", 2, "CANCELLED")
    assert str(third["uid"]) == str(first["uid"])
    assert count(env.url, "SELECT count(*) FROM visits WHERE state IN ('held', 'booked')") == 0
    assert deliver(env.url, NOW, 0) == []  # nothing else was queued


@pytest.mark.parametrize("action", ["confirm", "choose", "pick", "cancel", "fixed", "broken",
                                    "unsubscribe"])
def test_every_link_acts_once_and_a_second_use_changes_nothing(env: Env, action: str) -> None:
    fault = DRAIN if action in ("fixed", "broken") else MOTOR
    vid, _ = setup(env.url, fault)
    with psycopg.connect(env.url) as conn:
        offers = booking_store.load_offers(conn, "inc-1") if vid else []
    subject = {"confirm": str(vid), "cancel": str(vid), "unsubscribe": "cus-1",
               "pick": pick_subject("inc-1", offers[2].technician_id, offers[2].start)
               if offers else ""}.get(action, "inc-1")
    link = "/c/" + sign(SECRET, action, subject, NOW + timedelta(days=1))
    data = {"rank": "1"} if action == "choose" else None
    first = env.client.post(link, data=data)
    assert first.status_code == 200 and "You used this link before" not in first.text
    snapshot = [count(env.url, f"SELECT count(*) FROM {t}") for t in
                ("visits", "email_outbox", "link_uses", "customer_feedback",
                 "dispatch_decisions")]
    second = env.client.post(link, data={"rank": "2"} if action == "choose" else None)
    assert second.status_code == 200 and "You used this link before" in second.text
    assert [count(env.url, f"SELECT count(*) FROM {t}") for t in
            ("visits", "email_outbox", "link_uses", "customer_feedback",
             "dispatch_decisions")] == snapshot


def test_tampered_expired_and_unknown_links_change_nothing(env: Env) -> None:
    vid, _ = setup(env.url)
    good = sign(SECRET, "confirm", str(vid), NOW + timedelta(hours=1))
    body, mac = good.split(".")
    tampered = [f"{body}.{mac}=", f"{body}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
                f"{body[:-2]}xx.{mac}", "nonsense"]
    for token in tampered:
        r = env.client.post(f"/c/{token}")
        assert r.status_code == 404 and "This link is not valid" in r.text
        assert "Dieser Link ist ungültig" in r.text
    unknown = env.client.post("/c/" + sign(SECRET, "confirm", "999999", NOW + timedelta(1)))
    assert unknown.status_code == 404 and "could not find" in unknown.text
    env.now = NOW + timedelta(hours=2)
    expired = env.client.post(f"/c/{good}")
    assert expired.status_code == 410 and "expired" in expired.text
    assert count(env.url, "SELECT count(*) FROM link_uses") == 0
    assert count(env.url, "SELECT count(*) FROM visits WHERE state = 'held'") == 1


def test_twenty_concurrent_posts_of_one_link_give_one_outcome(database_url: str) -> None:
    setup(database_url)
    token = sign(SECRET, "choose", "inc-1", NOW + timedelta(days=1))
    claim = verify(SECRET, token, now=NOW)
    barrier = threading.Barrier(20)
    results: list[actions.Result] = []
    errors: list[BaseException] = []

    def click(i: int) -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                barrier.wait(10)
                results.append(actions.perform(conn, claim, now=NOW, ports=PORTS,
                                                       rank=1 + i % 3))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(not r.repeated for r in results) == 1 and len(results) == 20
    assert {r.outcome for r in results} == {"moved"}
    assert count(database_url, "SELECT count(*) FROM visits WHERE state IN ('held', 'booked')"
                 ) == 1
    assert count(database_url, "SELECT count(*) FROM email_outbox WHERE kind = 'confirmation'"
                 ) == 1


def test_a_scheduler_move_queues_exactly_one_email(database_url: str) -> None:
    vid, _ = setup(database_url)
    assert vid is not None
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert booking_store.confirm_visit(conn, vid, now=NOW) == "booked"  # the board
        first = appointments.scheduler_changed(conn, "inc-1", now=NOW)
        assert first is not None and appointments.scheduler_changed(conn, "inc-1",
                                                                      now=NOW) is None
        new = booking_store.choose_offer(conn, incident_id="inc-1", rank=3, now=NOW)
        assert new is not None
        moved = appointments.scheduler_changed(conn, "inc-1", now=NOW)
        assert moved is not None and appointments.scheduler_changed(conn, "inc-1",
                                                                     now=NOW) is None
    msgs = deliver(database_url, NOW, 3)
    subjects = sorted(m["Subject"].split(":")[0] for m in msgs)
    assert all(not m["Subject"].startswith(" ") for m in msgs)  # not refolded on the way
    assert all(m["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/c/") for m in msgs)
    assert subjects == ["Booked for you", "New time", "Please confirm"]
    change = next(m for m in msgs if m["Subject"].startswith("New time"))
    assert "Our scheduling team had to move" in change.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert event(change)[1]["sequence"] == 2


def test_still_broken_records_feedback_and_proposes_a_visit_in_its_own_email(env: Env) -> None:
    setup(env.url, DRAIN)
    [self_help] = deliver(env.url, NOW, 1)
    links = urls(self_help)
    assert set(links) == {"fixed", "broken", "unsubscribe"}
    r = env.client.post(links["broken"][0])
    assert "We will send you a proposal" in r.text
    with psycopg.connect(env.url) as conn:
        assert conn.execute("SELECT kind FROM customer_feedback").fetchall() == [
            ("still_broken",)]
        decision = conn.execute("SELECT action, escalated FROM dispatch_decisions "
                                "ORDER BY id DESC LIMIT 1").fetchone()
    assert decision == ("visit", True)
    [proposal] = deliver(env.url, NOW + timedelta(hours=1), 1)
    assert proposal["Subject"].startswith("Please confirm: technician visit")


def test_a_customer_without_consent_gets_no_email_and_the_scheduler_a_reason(
        database_url: str) -> None:
    vid, outbox_id = setup(database_url, consent_email=False)
    assert vid is None and outbox_id is None
    with psycopg.connect(database_url, autocommit=True) as conn:
        reason = conn.execute("SELECT action, reason FROM dispatch_decisions").fetchone()
        assert reason is not None and reason[0] == "wait_for_scheduler"
        assert "no consent" in reason[1] and "call the customer" in reason[1]
        proposal = booking_store.propose_visit(
            conn, incident_id="inc-1", customer_id="cus-1", req=booking_store.VisitRequest(
                skill="washer", minutes=60, lat=52.52, lon=13.4), p_home=lambda _: 0.5, now=NOW)
        assert proposal is not None
        booking_store.confirm_visit(conn, proposal.visit_id, now=NOW)
        assert appointments.scheduler_changed(conn, "inc-1", now=NOW) is None
        note = conn.execute("SELECT note FROM appointments").fetchone()
    assert note is not None and "no consent" in note[0] and "call them" in note[0]
    assert count(database_url, "SELECT count(*) FROM email_outbox") == 0


def test_a_hold_lasts_48_hours_after_the_email_can_first_be_read(database_url: str) -> None:
    late = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 Berlin: quiet until 07:00
    with psycopg.connect(database_url, autocommit=True) as conn:
        add_customer(conn, "cus-1", email="ada@example.org", device_id="d1",
                     quiet=(time(22, 0), time(7, 0)))
        add_technicians(conn)
        c = adapter.load_customer(conn, customer_id="cus-1")
        assert c
        out = handle_incident(conn, IncidentInfo("inc-1", "d1", "WM-800", MOTOR, late), c,
                              now=late, p_home=lambda _: 0.5)
        sent = conn.execute("SELECT send_at FROM email_outbox").fetchone()
        hold = conn.execute("SELECT hold_expires_at, starts_at FROM visits WHERE id = %s",
                            (out.visit_id,)).fetchone()
    assert sent and hold
    assert sent[0] == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert hold[0] == sent[0] + timedelta(hours=48) and hold[1] > sent[0]


def test_the_adapter_reads_every_catalog_code_with_its_safety_advice(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        for model in load_catalog().values():
            for entry in model.codes:
                for lang in ("en", "de"):
                    loaded = adapter.load_fault(conn, model.id, entry.code, lang)
                    assert loaded == fault_info(entry, lang), (model.id, entry.code, lang)
