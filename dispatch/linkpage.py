"""What the page of a customer's link says: the appointment it is about, what the link will do
or did, and the truth when the visit has moved on (with the links that work now). Adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from dispatch import adapter, appointments, booking_store, wording
from dispatch.actions import Result, incident_of, previous_use
from dispatch.links import Claim, parse_pick, sign
from dispatch.linkwords import page_words

STATUS = {"taken": 409, "gone": 409, "unknown": 404}


@dataclass(frozen=True)
class Page:
    """A rendered page's content."""

    lang: str
    title: str
    message: str = ""
    status: int = 200
    card: list[tuple[str, str]] = field(default_factory=list)
    form: bool = False
    button: str = ""
    offers: list[dict[str, Any]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


def bad_link(reason: str) -> Page:
    """An expired, tampered or unknown link: in both languages, nothing changed."""
    key = "expired" if reason == "expired" else "invalid"
    en, de = page_words("en"), page_words("de")
    return Page("en", f"{en[key]} / {de[key]}", f"{en[key + '.msg']} {de[key + '.msg']}",
                status=410 if reason == "expired" else 404)


@dataclass(frozen=True)
class _Ctx:
    lang: str
    tz: str
    incident: str | None
    kind: str
    fault: str
    current: appointments.VisitRow | None
    last: appointments.VisitRow | None


def _context(conn: psycopg.Connection, claim: Claim, now: datetime) -> _Ctx:
    incident = incident_of(conn, claim)
    found = adapter.load_incident(conn, incident) if incident else None
    if found is None and claim.action == "unsubscribe":
        c = adapter.load_customer(conn, customer_id=claim.subject)
        lang, tz = (c.language, c.tz) if c else ("en", "UTC")
        return _Ctx(lang, tz, None, "", "", None, None)
    if found is None:
        return _Ctx("en", "UTC", incident, "", "", None, None)
    customer, inc = found
    current = appointments.live(conn, incident, now=now) if incident else None
    last = None
    if current is None and incident:
        told = conn.execute("SELECT told_visit_id FROM appointments WHERE incident_id = %s",
                            (incident,)).fetchone()
        last = appointments.visit(conn, told[0]) if told and told[0] else None
    return _Ctx(customer.language, customer.tz, incident, inc.appliance_kind, inc.fault.title,
                current, last)


def _card(c: _Ctx, w: dict[str, str], v: appointments.VisitRow | None) -> list[tuple[str, str]]:
    if not c.fault:
        return []
    rows = [(w["appliance"], wording.appliance(c.kind, c.lang)), (w["fault"], c.fault)]
    if v is not None:
        rows += [(w["when"], wording.visit_when(v.starts_at, v.ends_at, c.tz, c.lang)),
                 (w["technician"], wording.first_name(v.technician)),
                 (w["status"], w.get(f"state.{v.state}", v.state))]
    return rows


def _links(c: _Ctx, w: dict[str, str], secret: bytes, now: datetime) -> list[tuple[str, str]]:
    v = c.current
    if v is None or c.incident is None:
        return []
    out = []
    if v.state == "held" and v.hold_expires_at:
        out.append((w["link.confirm"], "/c/" + sign(secret, "confirm", str(v.id),
                                                     v.hold_expires_at)))
    if v.starts_at > now:
        out.append((w["link.choose"], "/c/" + sign(secret, "choose", c.incident, v.starts_at)))
    out.append((w["link.cancel"], "/c/" + sign(secret, "cancel", str(v.id), v.ends_at)))
    return out


def _offers(conn: psycopg.Connection, c: _Ctx, now: datetime) -> list[dict[str, Any]]:
    """The kept offers still to come, without the visit's own slot, in date order."""
    cur = c.current
    kept = sorted(enumerate(booking_store.load_offers(conn, c.incident or "")),
                  key=lambda ro: ro[1].start)
    return [{"rank": rank, "window": wording.visit_when(o.start, o.end, c.tz, c.lang)}
            for rank, o in kept
            if o.start > now and not (cur and cur.technician_id == o.technician_id
                                      and cur.starts_at == o.start)]


def _moved_on(claim: Claim, c: _Ctx) -> bool:
    """A confirm link whose visit is no longer the appointment's visit."""
    return (claim.action == "confirm" and c.current is not None
            and str(c.current.id) != claim.subject)


def show(conn: psycopg.Connection, claim: Claim, *, secret: bytes, now: datetime) -> Page:
    """GET: what the link will do (a button), or the truth when it cannot any more."""
    c = _context(conn, claim, now)
    w = page_words(c.lang)
    before = previous_use(conn, claim)
    if before is not None:
        return _outcome(c, w, claim, Result(claim.action, before, repeated=True), secret, now)
    if (c.incident is None and claim.action != "unsubscribe") or (c.incident and not c.fault):
        return _outcome(c, w, claim, Result(claim.action, "unknown"), secret, now)
    if claim.action in ("confirm", "cancel", "choose", "pick") and c.current is None:
        state = c.last.state if c.last else ""
        outcome = "lapsed" if state == "released" else "cancelled" if c.last else "unknown"
        return _outcome(c, w, claim, Result(claim.action, outcome), secret, now)
    if _moved_on(claim, c) or (claim.action == "confirm" and c.current
                               and c.current.state == "booked"):
        return _outcome(c, w, claim, Result(claim.action, "already_booked"), secret, now)
    ask = Page(c.lang, w[f"ask.{claim.action}"], w.get(f"ask.{claim.action}.msg", ""),
               card=_card(c, w, c.current), form=True, button=w[f"button.{claim.action}"])
    if claim.action == "choose":
        offers = _offers(conn, c, now)
        if not offers:
            return Page(c.lang, w["no_times"], w["no_times.msg"], card=ask.card)
        return Page(**{**ask.__dict__, "offers": offers})
    if claim.action == "pick":
        picked = parse_pick(claim.subject)
        assert picked is not None
        start = picked[2]
        offer = next((o for o in booking_store.load_offers(conn, c.incident or "")
                      if o.technician_id == picked[1] and o.start == start), None)
        if offer is None or offer.start <= now:
            return _outcome(c, w, claim, Result(claim.action, "gone"), secret, now)
        if c.current and c.current.starts_at == start and c.current.technician_id == picked[1]:
            return _outcome(c, w, claim, Result(claim.action, "already"), secret, now)
        when = wording.visit_when(offer.start, offer.end, c.tz, c.lang)
        return Page(**{**ask.__dict__, "message": when})
    return ask


def after(conn: psycopg.Connection, claim: Claim, result: Result, *, secret: bytes,
          now: datetime) -> Page:
    """POST: what the link did, and the appointment as it is now."""
    c = _context(conn, claim, now)
    return _outcome(c, page_words(c.lang), claim, result, secret, now)


def _outcome(c: _Ctx, w: dict[str, str], claim: Claim, result: Result, secret: bytes,
             now: datetime) -> Page:
    outcome = result.outcome
    note = w["again"] if result.repeated else ""
    links = _links(c, w, secret, now)
    shown = c.current or c.last
    if claim.action in ("confirm", "cancel", "choose", "pick") and c.incident and c.fault:
        if _moved_on(claim, c):
            assert c.current is not None
            when = wording.visit_when(c.current.starts_at, c.current.ends_at, c.tz, c.lang)
            return Page(c.lang, w["moved_to"].format(when=when), w["moved_to.msg"],
                        card=_card(c, w, c.current), links=links, note=note)
        if c.current is None and outcome not in ("taken", "gone"):
            key = "lapsed" if c.last and c.last.state == "released" else (
                "cancelled" if c.last else "unknown")
            return Page(c.lang, w[key], w.get(f"{key}.msg", ""), card=_card(c, w, c.last),
                        note=note, status=STATUS.get(key, 200))
        if outcome in ("booked", "already_booked", "moved", "already", "pick"):
            assert c.current is not None
            key = "booked" if c.current.state == "booked" else "moved"
            return Page(c.lang, w[key], card=_card(c, w, c.current), links=links, note=note)
    key = outcome if outcome in w else "unknown"
    return Page(c.lang, w[key], w.get(f"{key}.msg", ""), card=_card(c, w, shown),
                links=links if outcome in ("taken", "gone") else [], note=note,
                status=STATUS.get(key, 200))
