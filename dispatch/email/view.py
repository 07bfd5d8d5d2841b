"""What a template shows for one email item: words, times in the customer's zone, links. Pure."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from dispatch import wording
from dispatch.email.words import words
from dispatch.links import pick_subject, sign


def link(base_url: str, secret: bytes, action: str, subject: str, expires: datetime) -> str:
    """The absolute URL of a signed customer link."""
    return f"{base_url.rstrip('/')}/c/{sign(secret, action, subject, expires)}"


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def appliance_name(p: dict[str, Any], lang: str) -> str:
    """The appliance as the customer calls it ('washing machine')."""
    kind = (p.get("appliance") or {}).get("kind", "")
    return wording.appliance(kind, lang) if kind else words(lang)["ics.summary"].split(":")[0]


def visit_view(p: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """The visit's times and technician as the customer reads them."""
    visit = p.get("visit")
    if not visit:
        return None
    tz = p["tz"]
    start, end = datetime.fromisoformat(visit["start"]), datetime.fromisoformat(visit["end"])
    hold = _at(visit.get("hold_expires_at"))
    before = p.get("previous")
    return dict(visit, start_at=start, end_at=end,
                when=wording.visit_when(start, end, tz, lang),
                short=wording.short_when(start, tz, lang),
                technician=wording.first_name(visit.get("technician", "")),
                held_until=wording.moment(hold, tz, lang) if hold else "",
                was=wording.visit_when(datetime.fromisoformat(before["start"]),
                                       datetime.fromisoformat(before["end"]), tz, lang)
                if before else "")


def life_sentence(life: dict[str, Any] | None, lang: str) -> str:
    """The remaining life of a prediction in the customer's words ('' when there is none)."""
    if not life or life.get("days") is None:
        return ""
    w = words(lang)
    days = float(life["days"])
    if days < 1.0:
        return w["life.soon"]
    n = max(1, round(days))
    lo = min(n, max(0, math.floor(float(life.get("lo") or 0.0))))
    if life.get("hi") is None:
        return w["life.open"].format(days=n, lo=lo)
    return w["life"].format(days=n, lo=lo, hi=max(n, math.ceil(float(life["hi"]))))


def item_view(p: dict[str, Any], *, created: datetime, base_url: str, secret: bytes,
              lang: str, link_days: int) -> dict[str, Any]:
    """One item of an email (the email itself, or one entry of a digest) ready to render."""
    links: dict[str, str] = dict.fromkeys(("fixed", "broken", "confirm", "choose", "cancel"), "")
    until = created + timedelta(days=link_days)
    incident = p["incident_id"]
    kind = p["kind"]
    if kind == "self_help":
        links["fixed"] = link(base_url, secret, "fixed", incident, until)
        links["broken"] = link(base_url, secret, "broken", incident, until)
    visit = visit_view(p, lang)
    alternatives = []
    if visit:
        hold = _at(visit.get("hold_expires_at"))
        start, end = visit["start_at"], visit["end_at"]
        if kind in ("visit", "urgent") and hold:
            links["confirm"] = link(base_url, secret, "confirm", str(visit["visit_id"]), hold)
            links["choose"] = link(base_url, secret, "choose", incident, hold)
            for alt in visit.get("alternatives") or []:
                a, b = datetime.fromisoformat(alt["start"]), datetime.fromisoformat(alt["end"])
                subject = pick_subject(incident, int(alt["technician_id"]), a)
                alternatives.append({
                    "when": wording.visit_when(a, b, p["tz"], lang),
                    "technician": wording.first_name(alt.get("technician", "")),
                    "link": link(base_url, secret, "pick", subject, hold)})
        if p.get("change") not in ("cancelled", "lapsed"):
            links["cancel"] = link(base_url, secret, "cancel", str(visit["visit_id"]), end)
            if kind in ("confirmation", "reminder"):
                links["choose"] = link(base_url, secret, "choose", incident, start)
    fault = p["fault"]
    change = p.get("change", "")
    intro = "moved_scheduler" if change == "moved" and p.get("by") == "scheduler" else change
    return dict(p, visit=visit, change_intro=intro, alternatives=alternatives, links=links,
                appliance_name=appliance_name(p, lang),
                life=life_sentence(p.get("remaining_life"), lang),
                steps=list(fault.get("steps") or []), safety=fault.get("safety") or "")


def subject(p: dict[str, Any], visit: dict[str, Any] | None, lang: str, n: int = 1) -> str:
    """A subject that says what the email is and what to do."""
    w = words(lang)
    kind = p["kind"]
    key = f"subject.{p.get('change')}" if kind == "confirmation" else f"subject.{kind}"
    if kind == "visit" and visit is None:
        key = "subject.visit_none"
    name = appliance_name(p, lang)
    return w[key].format(appliance=name, Appliance=name[:1].upper() + name[1:],
                         title=p["fault"]["title"], when=visit["short"] if visit else "", n=n)
