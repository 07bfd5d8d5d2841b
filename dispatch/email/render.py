"""Render an outbox row into a multipart email: text + HTML, an .ics for a visit, signed links.

Rendering is deterministic in the row (links, Message-ID, Date and the .ics all derive from
it), so a retried email is byte-for-byte the same message.
"""

from __future__ import annotations

import email.policy
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import jinja2

from dispatch.links import sign
from dispatch.outbox import OutboxRow

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"

SUBJECTS = {
    "en": {"self_help": "{title}: you can fix this yourself",
           "visit": "{title}: we reserved a technician visit",
           "urgent": "Urgent: {title}", "digest": "Today's summary of your appliances",
           "reminder": "Reminder: technician visit tomorrow"},
    "de": {"self_help": "{title}: Das können Sie selbst beheben",
           "visit": "{title}: Wir haben einen Technikertermin reserviert",
           "urgent": "Dringend: {title}", "digest": "Die heutige Übersicht zu Ihren Geräten",
           "reminder": "Erinnerung: Technikertermin morgen"},
}
WINDOW = {"en": "{day}, {start}–{end}", "de": "{day}, {start}–{end} Uhr"}
DAYS = {"en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")}


@dataclass(frozen=True)
class EmailSettings:
    """Where links point, who sends, and the secret that signs the links."""

    base_url: str
    from_addr: str
    secret: bytes
    domain: str = "fixahead.local"
    from_name: str = "Fixahead Service"
    link_days: int = 14
    unsubscribe_days: int = 365


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html"]),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


_ENV = _env()
# long unbroken header values (the List-Unsubscribe URL) must stay literal, not RFC 2047 words
_POLICY = email.policy.default.clone(max_line_length=998)


def message_id(row: OutboxRow, domain: str) -> str:
    """A Message-ID derived from the outbox row: the same for every retry of that row."""
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:16]
    return f"<fixahead.{row.id}.{digest}@{domain}>"


def _link(s: EmailSettings, action: str, subject: str, expires: datetime) -> str:
    return f"{s.base_url.rstrip('/')}/c/{sign(s.secret, action, subject, expires)}"


def window_text(start: datetime, end: datetime, tz: str, language: str) -> str:
    """A visit window in the customer's zone and language."""
    zone = ZoneInfo(tz)
    a, b = start.astimezone(zone), end.astimezone(zone)
    day = f"{DAYS[language][a.weekday()]} {a:%d.%m.%Y}" if language == "de" else (
        f"{DAYS[language][a.weekday()]} {a:%d %b %Y}")
    return WINDOW[language].format(day=day, start=f"{a:%H:%M}", end=f"{b:%H:%M}")


def _item(p: dict[str, Any], row: OutboxRow, s: EmailSettings, lang: str) -> dict[str, Any]:
    item = dict(p)
    created = row.created_at
    links = {"fixed": _link(s, "fixed", p["incident_id"], created + timedelta(days=s.link_days))}
    visit = p.get("visit")
    if visit:
        start, end = datetime.fromisoformat(visit["start"]), datetime.fromisoformat(visit["end"])
        hold = datetime.fromisoformat(visit.get("hold_expires_at") or visit["end"])
        zone = ZoneInfo(p["tz"])
        visit = dict(visit, window=window_text(start, end, p["tz"], lang),
                     hold_until=f"{hold.astimezone(zone):%d.%m.%Y %H:%M}")
        links["confirm"] = _link(s, "confirm", str(visit["visit_id"]), hold)
        links["choose"] = _link(s, "choose", p["incident_id"], hold)
        links["cancel"] = _link(s, "cancel", str(visit["visit_id"]), end)
    item["visit"] = visit
    item["links"] = links
    return item


def visit_ics(p: dict[str, Any], row: OutboxRow, s: EmailSettings, lang: str) -> bytes:
    """An iCalendar REQUEST for the proposed visit (tentative until confirmed)."""
    visit = p["visit"]
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Fixahead//dispatch//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"visit-{visit['visit_id']}@{s.domain}")
    event.add("dtstamp", row.created_at)
    event.add("dtstart", datetime.fromisoformat(visit["start"]))
    event.add("dtend", datetime.fromisoformat(visit["end"]))
    title = p["fault"]["title"]
    event.add("summary", f"Technikertermin: {title}" if lang == "de"
              else f"Technician visit: {title}")
    event.add("description", f"{p['fault']['code']} {p['model_id']}")
    event.add("status", "CONFIRMED" if p["kind"] == "reminder" else "TENTATIVE")
    event.add("organizer", f"mailto:{s.from_addr}")
    event.add("attendee", f"mailto:{row.to_addr}")
    event.add("sequence", 0)
    cal.add_component(event)
    return cal.to_ical()


def render(row: OutboxRow, s: EmailSettings) -> EmailMessage:
    """The complete email for an outbox row."""
    lang = row.language if row.language in SUBJECTS else "en"
    payload = row.payload
    items = payload["items"] if row.kind == "digest" else [payload]
    rendered = [_item(p, row, s, lang) for p in items]
    first = rendered[0]
    subject = SUBJECTS[lang][row.kind].format(title=first["fault"]["title"])
    unsubscribe = _link(s, "unsubscribe", row.customer_id,
                        row.created_at + timedelta(days=s.unsubscribe_days))
    context = {"kind": row.kind, "name": first.get("customer_name") or row.to_addr,
               "item": first, "items": rendered, "subject": subject,
               "unsubscribe": unsubscribe}
    text = _ENV.get_template(f"message.{lang}.txt").render(context)
    html = _ENV.get_template(f"message.{lang}.html").render(context)
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = subject
    msg["From"] = formataddr((s.from_name, s.from_addr))
    msg["To"] = row.to_addr
    msg["Date"] = format_datetime(row.send_at)
    msg["Message-ID"] = message_id(row, s.domain)
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Fixahead-Outbox"] = str(row.id)
    if any(p.get("urgent") for p in items):
        msg["Importance"] = "high"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    for p in items:
        if p.get("visit"):
            msg.add_attachment(visit_ics(p, row, s, lang), maintype="text", subtype="calendar",
                               filename=f"visit-{p['visit']['visit_id']}.ics",
                               params={"method": "REQUEST"})
    msg["Content-Language"] = lang  # after the body: set_content clears Content-* headers
    for n, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_fixahead_{row.id}_{n}")  # random boundaries would vary by retry
    return msg
