from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

import icalendar
import pytest

from dispatch.email.render import EmailSettings, message_id, render
from dispatch.links import parse_pick, verify
from dispatch.outbox import OutboxRow

SECRET = b"s3cret"
SETTINGS = EmailSettings(base_url="https://fix.example/", from_addr="service@fix.example",
                         secret=SECRET, domain="fix.example", from_name="Fixahead Service")
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
FAULT = {"code": "E21", "title": "Water does not drain", "meaning": "The pump is blocked.",
         "severity": "error", "steps": ["Unplug the washer.", "Clean the pump filter."],
         "safety": "Unplug it before you open the filter.", "parts": []}


def slot(start: str, end: str, tech: int = 3) -> dict[str, object]:
    return {"technician_id": tech, "technician": "Cleo", "start": start, "end": end}


def payload(kind: str, with_visit: bool = False, **kw: object) -> dict[str, object]:
    p: dict[str, object] = {
        "kind": kind, "incident_id": "inc-1", "device_id": "d1", "model_id": "WM-800",
        "appliance": {"kind": "washer"}, "customer_id": "cus-1", "customer_name": "Ada",
        "tz": "Europe/Berlin", "urgent": kind == "urgent", "escalated": False, "fault": FAULT,
        "visit": None}
    if with_visit:
        p["visit"] = {"visit_id": 7, "technician_id": 2, "technician": "Bo Berg (T10)",
                      "start": "2026-11-24T13:00:00+00:00", "end": "2026-11-24T14:00:00+00:00",
                      "sequence": 0, "hold_expires_at": "2026-11-26T12:00:00+00:00",
                      "alternatives": [
                          slot("2026-11-25T08:00:00+00:00", "2026-11-25T09:00:00+00:00"),
                          slot("2026-11-27T16:00:00+00:00", "2026-11-27T17:00:00+00:00")]}
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


def links(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for url in re.findall(r"https://fix\.example/c/\S+", text):
        claim = verify(SECRET, url.rsplit("/", 1)[1], now=NOW)
        out.setdefault(claim.action, []).append(claim.subject)
    return out


def calendar(msg: EmailMessage) -> tuple[str, icalendar.cal.Component]:
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    [event] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    return str(part.get_param("method")), event


def test_headers_name_the_sender_once_and_identify_the_message() -> None:
    msg = parsed(render(row("self_help", payload("self_help")), SETTINGS))
    assert getaddresses([msg["From"]]) == [("Fixahead Service", "service@fix.example")]
    assert getaddresses([msg["To"]]) == [("Ada", "ada@example.org")]
    assert msg["Message-ID"] == message_id(row("self_help", {}), "fix.example")
    assert parsedate_to_datetime(msg["Date"]) == NOW
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert verify(SECRET, msg["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1],
                  now=NOW).action == "unsubscribe"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_a_sender_address_with_a_name_in_it_is_refused() -> None:
    with pytest.raises(ValueError, match="from_name"):
        EmailSettings(base_url="x", from_addr="Fixahead <service@fix.example>", secret=b"k")


def test_html_uses_tables_inline_styles_and_nothing_external() -> None:
    _, html = bodies(parsed(render(row("visit", payload("visit", with_visit=True)), SETTINGS)))
    assert 'role="presentation"' in html and 'name="color-scheme"' in html
    assert "<style" not in html and "<link" not in html and "src=" not in html
    assert "url(" not in html and "<script" not in html
    assert re.findall(r'href="([^"]+)"', html)  # links only, and only to our pages
    assert all(h.startswith("https://fix.example/c/") for h in re.findall(r'href="([^"]+)"',
                                                                           html))


def test_self_help_email_has_steps_safety_and_fixed_and_still_broken_links() -> None:
    msg = parsed(render(row("self_help", payload("self_help")), SETTINGS))
    text, html = bodies(msg)
    assert "1. Unplug the washer." in text and "2. Clean the pump filter." in text
    assert "Unplug it before you open the filter." in text and "Clean the pump filter." in html
    assert msg["Subject"] == "Washing machine: Water does not drain – how to fix it yourself"
    assert links(text) == {"fixed": ["inc-1"], "broken": ["inc-1"], "unsubscribe": ["cus-1"]}
    assert "Yes, it works again" in html and "No, still broken" in html


@pytest.mark.parametrize(("language", "when", "subject"), [
    ("en", "Tuesday, 24 November 2026, 14:00–15:00",
     "Please confirm: technician visit on Tue 24 Nov, 14:00 (washing machine)"),
    ("de", "Dienstag, 24. November 2026, 14:00–15:00 Uhr",
     "Bitte bestätigen: Technikertermin am Di., 24. Nov., 14:00 (Waschmaschine)"),
])
def test_visit_email_shows_local_times_in_the_customers_language(language: str, when: str,
                                                                   subject: str) -> None:
    msg = parsed(render(row("visit", payload("visit", with_visit=True), language=language),
                        SETTINGS))
    text, html = bodies(msg)
    assert when in text and when in html  # 13:00Z is 14:00 in Berlin
    assert msg["Subject"] == subject
    assert ("Thursday 26 November, 13:00" if language == "en"
            else "Donnerstag, 26. November, 13:00") in text  # the hold, in Berlin time
    for internal in ("T10", "WM-800", "E21", "26.11.2026"):
        assert internal not in text and internal not in html
    assert ("Technician: Bo" if language == "en" else "Servicetechnik: Bo") in text


def test_visit_email_offers_the_best_time_and_two_one_click_alternatives() -> None:
    msg = parsed(render(row("visit", payload("visit", with_visit=True)), SETTINGS))
    text, _ = bodies(msg)
    found = links(text)
    assert found["confirm"] == ["7"] and found["choose"] == ["inc-1"]
    picks = [parse_pick(s) for s in found["pick"]]
    assert [(p[1], p[2]) for p in picks if p] == [
        (3, datetime(2026, 11, 25, 8, tzinfo=UTC)), (3, datetime(2026, 11, 27, 16, tzinfo=UTC))]
    assert "Wednesday, 25 November 2026, 09:00–10:00" in text


def test_visit_email_carries_a_tentative_calendar_request_and_an_attachment() -> None:
    msg = parsed(render(row("visit", payload("visit", with_visit=True)), SETTINGS))
    assert msg.get_content_type() == "multipart/mixed"
    alt = next(msg.iter_parts())
    assert [p.get_content_type() for p in alt.iter_parts()] == [
        "text/plain", "text/html", "text/calendar"]
    assert any(p.get_filename() == "invite.ics" for p in msg.iter_attachments())
    method, event = calendar(msg)
    assert method == "REQUEST" and str(event["status"]) == "TENTATIVE"
    assert str(event["uid"]).startswith("appointment-") and event["sequence"] == 0
    assert str(event["organizer"]) == "mailto:service@fix.example"
    assert event["organizer"].params["CN"] == "Fixahead Service"
    assert event.decoded("dtstart") == datetime(2026, 11, 24, 13, tzinfo=UTC)


def test_a_move_and_a_cancel_update_the_same_calendar_entry() -> None:
    visit = dict(payload("visit", with_visit=True)["visit"], sequence=1,  # type: ignore[arg-type]
                 hold_expires_at=None, alternatives=[])
    moved = payload("confirmation", change="moved", by="customer", visit=visit,
                    previous={"start": "2026-11-23T13:00:00+00:00",
                              "end": "2026-11-23T14:00:00+00:00"})
    gone = payload("confirmation", change="cancelled", by="customer",
                   visit=dict(visit, sequence=2))
    first = parsed(render(row("visit", payload("visit", with_visit=True)), SETTINGS))
    m1 = parsed(render(row("confirmation", moved, rid=2), SETTINGS))
    m2 = parsed(render(row("confirmation", gone, rid=3), SETTINGS))
    (_, e0), (meth1, e1), (meth2, e2) = calendar(first), calendar(m1), calendar(m2)
    assert str(e0["uid"]) == str(e1["uid"]) == str(e2["uid"])
    assert (meth1, e1["sequence"], str(e1["status"])) == ("REQUEST", 1, "CONFIRMED")
    assert (meth2, e2["sequence"], str(e2["status"])) == ("CANCEL", 2, "CANCELLED")
    assert m1["Subject"] == "New time: technician visit on Tue 24 Nov, 14:00 (washing machine)"
    assert "Previously: Monday, 23 November 2026, 14:00–15:00" in bodies(m1)[0]
    assert m2["Subject"].startswith("Cancelled: technician visit on Tue 24 Nov")
    assert set(links(bodies(m1)[0])) == {"choose", "cancel", "unsubscribe"}
    assert set(links(bodies(m2)[0])) == {"unsubscribe"}


def test_rendering_is_deterministic_so_a_retry_is_the_same_message() -> None:
    r = row("visit", payload("visit", with_visit=True))
    a, b = render(r, SETTINGS), render(r, SETTINGS)
    assert a.as_bytes() == b.as_bytes()
    assert a["Message-ID"] == message_id(r, "fix.example")
    assert message_id(row("visit", {}, rid=2), "x") != message_id(r, "x")


def test_urgent_email_says_what_to_do_now_from_the_catalog_only() -> None:
    fault = dict(FAULT, title="Freezer too warm", steps=["Keep the door closed."],
                 safety="Do not refreeze thawed food.")
    msg = parsed(render(row("urgent", payload("urgent", with_visit=True, fault=fault)), SETTINGS))
    text, _ = bodies(msg)
    assert msg["Importance"] == "high"
    assert msg["Subject"] == "Urgent – washing machine: Freezer too warm. What to do now"
    assert "Do not refreeze thawed food." in text and "1. Keep the door closed." in text
    assert "tap" not in text  # no generic line that is wrong for a freezer


@pytest.mark.parametrize("language", ["en", "de"])
def test_digest_lists_notes_without_a_calendar(language: str) -> None:
    items = [payload("self_help"),
             payload("self_help", fault=dict(FAULT, code="E10", title="Slow water supply"))]
    msg = parsed(render(row("digest", {"items": items}, language=language), SETTINGS))
    text, html = bodies(msg)
    assert "Water does not drain" in text and "Slow water supply" in html
    assert not any(p.get_content_type() == "text/calendar" for p in msg.walk())


def test_html_escapes_catalog_text() -> None:
    p = payload("self_help", fault=dict(FAULT, title="<script>x</script>"))
    _, html = bodies(parsed(render(row("self_help", p), SETTINGS)))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_prediction_email_says_how_long_the_appliance_has_left() -> None:
    life = {"days": 6.3, "lo": 3.2, "hi": 9.7}
    text, html = bodies(parsed(render(row("visit", payload("visit", True,
                                                            remaining_life=life)), SETTINGS)))
    assert "fail in about 6 days (between 3 and 10 days)" in text
    assert "fail in about 6 days (between 3 and 10 days)" in html
    de, _ = bodies(parsed(render(row("visit", payload("visit", True, remaining_life=dict(
        life, hi=None)), "de"), SETTINGS)))
    assert "in etwa 6 Tagen (frühestens in 3 Tagen)" in de
    plain, _ = bodies(parsed(render(row("visit", payload("visit", True)), SETTINGS)))
    assert "expect it to fail" not in plain
