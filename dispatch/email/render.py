"""Render an outbox row into an email: text + HTML alternatives, the calendar entry, signed links.

Rendering is deterministic in the row (links, Message-ID, Date and the .ics all derive from
it), so a retried email is byte-for-byte the same message. The sender's name and address are
separate settings, joined once by `formataddr`.
"""

from __future__ import annotations

import email.policy
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any

import jinja2

from dispatch.email.calendar import appointment_ics, ics_status
from dispatch.email.view import appliance_name, item_view, link, subject
from dispatch.email.words import WORDS, words
from dispatch.outbox import OutboxRow

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"


@dataclass(frozen=True)
class EmailSettings:
    """Where links point, who sends (name and bare address apart), and the link secret."""

    base_url: str
    from_addr: str
    secret: bytes
    domain: str = "fixahead.local"
    from_name: str = "Fixahead Service"
    link_days: int = 14
    unsubscribe_days: int = 365

    def __post_init__(self) -> None:
        name, addr = parseaddr(self.from_addr)
        if name or addr != self.from_addr or "@" not in addr:
            raise ValueError(f"from_addr must be a bare address like service@example.org, "
                             f"not {self.from_addr!r}; the name goes in from_name")

    @property
    def sender(self) -> str:
        """The From header: the name and the address, joined once."""
        return formataddr((self.from_name, self.from_addr))


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html"]),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


_ENV = _env()
# long unbroken header values (the List-Unsubscribe URL) must stay literal, not RFC 2047 words
_POLICY = email.policy.default.clone(max_line_length=998)


def message_id(row: OutboxRow, domain: str) -> str:
    """A Message-ID derived from the outbox row: the same for every retry of that row."""
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:16]
    return f"<fixahead.{row.id}.{digest}@{domain}>"


def _calendar(p: dict[str, Any], row: OutboxRow, s: EmailSettings, lang: str) -> bytes | None:
    status = ics_status(p)
    if status is None:
        return None
    visit = p["visit"]
    w = words(lang)
    title = p["fault"]["title"]
    tech = str(visit.get("technician", "")).split("(")[0].split()
    return appointment_ics(
        incident_id=p["incident_id"], start=datetime.fromisoformat(visit["start"]),
        end=datetime.fromisoformat(visit["end"]), sequence=int(visit.get("sequence", 0)),
        status=status, summary=w["ics.summary"].format(appliance=appliance_name(p, lang),
                                                       title=title),
        description=f"{title}. {w['technician'].format(name=tech[0])}" if tech else title,
        stamp=row.created_at, organizer=(s.from_name, s.from_addr),
        attendee=(p.get("customer_name", ""), row.to_addr), domain=s.domain)


def render(row: OutboxRow, s: EmailSettings) -> EmailMessage:
    """The complete email for an outbox row."""
    lang = row.language if row.language in WORDS else "en"
    payload = row.payload
    items = payload["items"] if row.kind == "digest" else [payload]
    views = [item_view(p, created=row.created_at, base_url=s.base_url, secret=s.secret,
                       lang=lang, link_days=s.link_days) for p in items]
    first = views[0]
    title = subject(dict(items[0], kind=row.kind), first["visit"], lang, n=len(items))
    unsubscribe = link(s.base_url, s.secret, "unsubscribe", row.customer_id,
                       row.created_at + timedelta(days=s.unsubscribe_days))
    context = {"kind": row.kind, "name": first.get("customer_name") or "", "item": first,
               "items": views, "subject": title, "unsubscribe": unsubscribe,
               "w": words(lang), "lang": lang, "sender": s.from_name}
    text = _ENV.get_template("message.txt").render(context)
    html = _ENV.get_template("message.html").render(context)
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = title
    msg["From"] = s.sender
    msg["To"] = formataddr((first.get("customer_name") or "", row.to_addr))
    msg["Date"] = format_datetime(row.send_at)
    msg["Message-ID"] = message_id(row, s.domain)
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Fixahead-Outbox"] = str(row.id)
    if any(p.get("urgent") for p in items):
        msg["Importance"] = "high"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    ics = _calendar(payload, row, s, lang) if row.kind != "digest" else None
    if ics is not None:
        method = "CANCEL" if ics_status(payload) == "cancelled" else "REQUEST"
        # calendar clients act on the text/calendar alternative; others show the attachment
        msg.add_alternative(ics, maintype="text", subtype="calendar",
                            params={"method": method, "charset": "utf-8"})
        msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    msg["Content-Language"] = lang  # after the body: set_content clears Content-* headers
    for n, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_fixahead_{row.id}_{n}")  # random boundaries would vary by retry
    return msg
