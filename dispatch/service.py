"""Turn an incident into an action: decide, hold a visit, queue the email, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from dispatch import outbox
from dispatch.booking import SearchConfig, VisitRequest
from dispatch.booking_store import Proposal, propose_visit
from dispatch.policy import Action, Decision, Delivery, PolicyConfig, decide
from dispatch.types import CustomerInfo, IncidentInfo

PHome = Callable[[datetime], float]


@dataclass(frozen=True)
class DispatchConfig:
    """Tunables of dispatch as a whole."""

    policy: PolicyConfig = field(default_factory=PolicyConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    hold_minutes: int = 48 * 60
    urgent_hold_minutes: int = 4 * 60


@dataclass(frozen=True)
class Outcome:
    """What handling an incident did; `duplicate` when the episode was already handled."""

    decision: Decision
    duplicate: bool
    visit_id: int | None = None
    outbox_id: int | None = None


def _visit_payload(conn: psycopg.Connection, p: Proposal, customer: CustomerInfo,
                   incident: IncidentInfo) -> dict[str, Any]:
    row = conn.execute("SELECT name FROM technicians WHERE id = %s",
                       (p.offer.technician_id,)).fetchone()
    return {"visit_id": p.visit_id, "incident_id": incident.incident_id,
            "start": p.offer.start.isoformat(), "end": p.offer.end.isoformat(),
            "technician": row[0] if row else "", "alternatives": len(p.offers) - 1,
            "hold_expires_at": p.hold_expires_at.isoformat(), "p_home": p.offer.p_home,
            "lat": customer.lat, "lon": customer.lon}


def email_payload(d: Decision, incident: IncidentInfo, customer: CustomerInfo,
                  visit: dict[str, Any] | None) -> dict[str, Any]:
    """What the renderer needs, stored with the outbox row."""
    f = incident.fault
    return {"kind": d.action.value, "incident_id": incident.incident_id,
            "device_id": incident.device_id, "model_id": incident.model_id,
            "customer_id": customer.customer_id, "customer_name": customer.name,
            "tz": customer.tz, "urgent": d.urgent, "escalated": d.escalated,
            "fault": {"code": f.code, "title": f.title, "meaning": f.meaning,
                      "severity": f.severity, "steps": list(f.self_help_steps),
                      "parts": list(f.parts)},
            "visit": visit}


def handle_incident(
    conn: psycopg.Connection, incident: IncidentInfo, customer: CustomerInfo, *,
    now: datetime, p_home: PHome, config: DispatchConfig = DispatchConfig(),
) -> Outcome:
    """Decide, hold a visit if one is needed, and queue the email, atomically and once."""
    with conn.transaction():
        # serialise decisions per customer so two workers cannot both spend the day's budget
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('dispatch:' || %s))",
                     (customer.customer_id,))
        counts = outbox.emails_by_day(conn, customer.customer_id, customer.tz, around=now)
        d = decide(incident, customer, now=now, emails_by_day=counts, config=config.policy)
        decision_id = outbox.insert_decision(conn, d)
        if decision_id is None:
            return Outcome(d, duplicate=True)
        if d.action is Action.WAIT:
            return Outcome(d, duplicate=False)
        visit = None
        visit_id = None
        if d.action in (Action.VISIT, Action.URGENT):
            f = incident.fault
            req = VisitRequest(skill=f.skill, minutes=f.visit_minutes, lat=customer.lat,
                               lon=customer.lon, urgent=d.urgent, territory=customer.territory,
                               parts=f.parts)
            hold = config.urgent_hold_minutes if d.urgent else config.hold_minutes
            proposal = propose_visit(conn, incident_id=incident.incident_id,
                                     customer_id=customer.customer_id, req=req, p_home=p_home,
                                     now=now, hold_minutes=hold, config=config.search)
            if proposal is not None:
                visit_id = proposal.visit_id
                visit = _visit_payload(conn, proposal, customer, incident)
        payload = email_payload(d, incident, customer, visit)
        assert d.send_at is not None
        if d.delivery is Delivery.DIGEST:
            outbox_id = outbox.add_to_digest(conn, decision=d, customer_id=customer.customer_id,
                                             to_addr=customer.email, language=customer.language,
                                             item=payload)
        else:
            outbox_id = outbox.enqueue(conn, key=d.idempotency_key, kind=d.action.value,
                                       customer_id=customer.customer_id, to_addr=customer.email,
                                       language=customer.language, payload=payload,
                                       send_at=d.send_at)
        outbox.link_decision(conn, decision_id, visit_id=visit_id, outbox_id=outbox_id)
        return Outcome(d, duplicate=False, visit_id=visit_id, outbox_id=outbox_id)
