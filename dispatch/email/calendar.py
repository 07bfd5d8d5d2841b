"""The calendar entry of an incident's appointment: one UID, a SEQUENCE that grows per change."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import icalendar

STATUS = {"proposed": "TENTATIVE", "booked": "CONFIRMED", "cancelled": "CANCELLED"}


def appointment_uid(incident_id: str, domain: str) -> str:
    """The UID every calendar entry of this incident's appointment carries."""
    digest = hashlib.sha256(incident_id.encode()).hexdigest()[:24]
    return f"appointment-{digest}@{domain}"


def appointment_ics(*, incident_id: str, start: datetime, end: datetime, sequence: int,
                    status: str, summary: str, description: str, stamp: datetime,
                    organizer: tuple[str, str], attendee: tuple[str, str],
                    domain: str) -> bytes:
    """METHOD:REQUEST (status proposed/booked) or METHOD:CANCEL (cancelled) for the entry."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Fixahead//dispatch//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if status == "cancelled" else "REQUEST")
    event = icalendar.Event()
    event.add("uid", appointment_uid(incident_id, domain))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", STATUS[status])
    org = icalendar.vCalAddress(f"mailto:{organizer[1]}")
    org.params["cn"] = icalendar.vText(organizer[0])
    event.add("organizer", org)
    who = icalendar.vCalAddress(f"mailto:{attendee[1]}")
    if attendee[0]:
        who.params["cn"] = icalendar.vText(attendee[0])
    who.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    who.params["partstat"] = icalendar.vText("ACCEPTED" if status == "booked"
                                             else "NEEDS-ACTION")
    event.add("attendee", who)
    cal.add_component(event)
    return bytes(cal.to_ical())


def ics_status(payload: dict[str, Any]) -> str | None:
    """Which calendar entry an email carries: proposed, booked, cancelled, or None."""
    if not payload.get("visit"):
        return None
    if payload["kind"] in ("visit", "urgent"):
        return "proposed"
    if payload["kind"] == "reminder":
        return "booked"
    if payload["kind"] == "confirmation":
        return "cancelled" if payload.get("change") in ("cancelled", "lapsed") else "booked"
    return None
