from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import icalendar
import pytest

from dispatch.email.render import EmailSettings, message_id, render
from dispatch.links import verify
from dispatch.outbox import OutboxRow

SECRET = b"s3cret"
SETTINGS = EmailSettings(base_url="https://fix.example/", from_addr="service@fix.example",
                         secret=SECRET, domain="fix.example")
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
FAULT = {"code": "E21", "title": "Water does not drain", "meaning": "The pump is blocked.",
         "severity": "error", "steps": ["Unplug the washer.", "Clean the pump filter."],
         "parts": []}


def payload(kind: str, visit: bool = False, **kw: object) -> dict[str, object]:
    p: dict[str, object] = {
        "kind": kind, "incident_id": "inc-1", "device_id": "d1", "model_id": "WM-800",
        "customer_id": "cus-1", "customer_name": "Ada", "tz": "Europe/Berlin",
        "urgent": kind == "urgent", "escalated": False, "fault": FAULT, "visit": None}
    if visit:
        p["visit"] = {"visit_id": 7, "incident_id": "inc-1", "start": "2026-11-24T13:00:00+00:00",
                      "end": "2026-11-24T14:00:00+00:00", "technician": "Bo",
                      "alternatives": 4, "hold_expires_at": "2026-11-24T12:00:00+00:00",
                      "p_home": 0.9, "lat": 52.5, "lon": 13.4}
    p.update(kw)
    return p


def row(kind: str, p: dict[str, object], language: str = "en", rid: int = 1) -> OutboxRow:
    return OutboxRow(id=rid, idempotency_key=f"inc-1:{kind}", kind=kind, customer_id="cus-1",
                     to_addr="ada@example.org", language=language, payload=p, send_at=NOW,
                     attempts=0, created_at=NOW)


def parsed(msg: EmailMessage) -> EmailMessage:
    out = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(out, EmailMessage)
    return out


def bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_self_help_email_has_text_and_html_with_steps_and_a_fixed_link() -> None:
    msg = parsed(render(row("self_help", payload("self_help")), SETTINGS))
    text, html = bodies(msg)
    assert "1. Unplug the washer." in text and "2. Clean the pump filter." in text
    assert "<li>Clean the pump filter.</li>" in html
    assert msg["Subject"] == "Water does not drain: you can fix this yourself"
    assert not any(p.get_content_type() == "text/calendar" for p in msg.walk())
    link = next(w for w in text.split() if "/c/" in w and "Fixed" not in w)
    assert verify(SECRET, link.rsplit("/", 1)[1], now=NOW).action == "fixed"


def test_visit_email_in_german_carries_the_window_links_and_an_ics() -> None:
    msg = parsed(render(row("visit", payload("visit", visit=True), language="de"), SETTINGS))
    text, html = bodies(msg)
    assert msg["Content-Language"] == "de"
    assert "Dienstag 24.11.2026, 14:00–15:00 Uhr" in text  # 13:00Z is 14:00 in Berlin
    assert "Termin bestätigen" in html and "Anderen Termin wählen" in html
    [ics] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert ics.get_param("method") == "REQUEST"
    cal = icalendar.Calendar.from_ical(ics.get_content())
    [event] = cal.walk("VEVENT")
    assert str(event["uid"]) == "visit-7@fix.example"
    assert event.decoded("dtstart") == datetime(2026, 11, 24, 13, tzinfo=UTC)
    assert str(event["status"]) == "TENTATIVE"
    actions = {verify(SECRET, w.rsplit("/", 1)[1], now=NOW).action
               for w in text.split() if "/c/" in w}
    assert actions == {"confirm", "choose", "cancel", "unsubscribe"}


def test_one_click_unsubscribe_headers_follow_rfc_8058() -> None:
    raw = render(row("self_help", payload("self_help")), SETTINGS).as_bytes()
    assert b"\nList-Unsubscribe: <https://fix.example/c/" in raw  # literal, not RFC 2047
    msg = parsed(render(row("self_help", payload("self_help")), SETTINGS))
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = msg["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://fix.example/c/")
    assert verify(SECRET, url.rsplit("/", 1)[1], now=NOW).subject == "cus-1"


def test_rendering_is_deterministic_so_a_retry_is_the_same_message() -> None:
    r = row("visit", payload("visit", visit=True))
    a, b = render(r, SETTINGS), render(r, SETTINGS)
    assert a.as_bytes() == b.as_bytes()
    assert a["Message-ID"] == message_id(r, "fix.example")
    assert message_id(row("visit", {}, rid=2), "x") != message_id(r, "x")


def test_urgent_email_is_marked_and_tells_what_to_do_now() -> None:
    msg = parsed(render(row("urgent", payload("urgent", visit=True)), SETTINGS))
    text, _ = bodies(msg)
    assert msg["Importance"] == "high" and msg["Subject"].startswith("Urgent:")
    assert "close the tap" in text


@pytest.mark.parametrize("language", ["en", "de"])
def test_digest_lists_every_problem_in_one_email(language: str) -> None:
    items = [payload("self_help"),
             payload("visit", visit=True, fault=dict(FAULT, code="E50", title="Motor fault"))]
    msg = parsed(render(row("digest", {"items": items}, language=language), SETTINGS))
    text, html = bodies(msg)
    assert "Water does not drain" in text and "Motor fault" in text
    assert "Motor fault" in html
    assert sum(p.get_content_type() == "text/calendar" for p in msg.walk()) == 1


def test_html_escapes_catalog_text() -> None:
    p = payload("self_help", fault=dict(FAULT, title="<script>x</script>"))
    _, html = bodies(parsed(render(row("self_help", p), SETTINGS)))
    assert "<script>" not in html and "&lt;script&gt;" in html
