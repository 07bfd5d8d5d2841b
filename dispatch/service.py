"""Turn an incident into an action: decide, hold a visit, queue the email, in one transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import psycopg

from devices import diagnostics_store
from dispatch import adapter, appointments, outbox
from dispatch.availability_store import availability_for
from dispatch.away import AwayConfig, detect
from dispatch.booking import SearchConfig, VisitRequest, not_before
from dispatch.booking_store import Proposal, propose_visit
from dispatch.payload import incident_payload, slot, visit_payload
from dispatch.policy import Action, Decision, Delivery, PolicyConfig, decide
from dispatch.ports import Ports
from dispatch.proposals import alternatives
from dispatch.types import CustomerInfo, IncidentInfo

PHome = Callable[[datetime], float]


@dataclass(frozen=True)
class DispatchConfig:
    """Tunables of dispatch as a whole."""

    policy: PolicyConfig = field(default_factory=PolicyConfig)
    # more kept offers, so two alternatives on other days or times of day can be found
    search: SearchConfig = field(default_factory=lambda: SearchConfig(alternatives=8))
    hold_minutes: int = 48 * 60  # after the email can first be read
    urgent_hold_minutes: int = 4 * 60
    persist_after: timedelta = timedelta(hours=48)  # self-help this long ago and still open
    recur_within: timedelta = timedelta(days=30)  # a new episode this soon after self-help
    snapshot_before_visit: bool = True  # ask the device for a diagnostics snapshot


@dataclass(frozen=True)
class Outcome:
    """What handling an incident did; `duplicate` when the episode was already handled."""

    decision: Decision
    duplicate: bool
    visit_id: int | None = None
    outbox_id: int | None = None


def _visit_payload(conn: psycopg.Connection, p: Proposal, customer: CustomerInfo,
                   incident: IncidentInfo) -> dict[str, Any]:
    names = dict(conn.execute("SELECT id, name FROM technicians WHERE id = ANY (%s)",
                              ([o.technician_id for o in p.offers],)).fetchall())
    others = alternatives(p.offer, p.offers, customer.tz)
    appointments.proposed(conn, incident.incident_id,
                          appointments.visit(conn, p.visit_id))  # type: ignore[arg-type]
    return visit_payload(p.visit_id, p.offer.technician_id, names.get(p.offer.technician_id, ""),
                         p.offer.start, p.offer.end, sequence=0,
                         hold_expires_at=p.hold_expires_at, p_home=p.offer.p_home,
                         alternatives=[slot(o.technician_id, names.get(o.technician_id, ""),
                                            o.start, o.end) for o in others])


def email_payload(d: Decision, incident: IncidentInfo, customer: CustomerInfo,
                  visit: dict[str, Any] | None) -> dict[str, Any]:
    """What the renderer needs, stored with the outbox row."""
    payload = incident_payload(d.action.value, incident, customer, urgent=d.urgent,
                               escalated=d.escalated)
    payload["visit"] = visit
    if d.away_until is not None:
        payload["away"] = {"until": d.away_until.isoformat()}
    return payload


def _with_history(conn: psycopg.Connection, incident: IncidentInfo, *, now: datetime,
                  config: DispatchConfig) -> IncidentInfo | None:
    """The incident with what dispatch remembers: self-help tried, fault came back or
    persisted. None when this episode got self-help too recently to escalate."""
    if not incident.fault.customer_fixable:
        return incident
    h = outbox.self_help_history(conn, incident_id=incident.incident_id,
                                 device_id=incident.device_id, fault_code=incident.fault.code,
                                 since=now - config.recur_within)
    if h.same_incident_at is not None and now - h.same_incident_at < config.persist_after \
            and not incident.recurred and not incident.still_broken:
        return None
    tried = incident.self_help_tried or h.same_incident_at is not None or h.other_incident
    recurred = incident.recurred or h.other_incident
    return replace(incident, self_help_tried=tried, recurred=recurred)


def _ask_snapshot(conn: psycopg.Connection, incident: IncidentInfo, proposal: Proposal, *,
                  now: datetime) -> None:
    """Ask the device for a diagnostics snapshot for the technician, valid until the visit
    (at least 30 minutes, at most 2 days); a device the registry lacks is skipped."""
    ttl = min(max(proposal.offer.start - now, timedelta(minutes=30)), timedelta(days=2))
    with contextlib.suppress(diagnostics_store.UnknownDevice):
        diagnostics_store.create_request(conn, device_id=incident.device_id,
                                         kind="diagnostics_snapshot", now=now, ttl=ttl,
                                         actor="dispatch", incident_id=incident.incident_id,
                                         visit_id=proposal.visit_id)


def _existing(conn: psycopg.Connection, incident: IncidentInfo) -> Decision:
    row = conn.execute(
        """SELECT customer_id, action, delivery, send_at, urgent, escalated, reason
           FROM dispatch_decisions WHERE incident_id = %s ORDER BY id DESC LIMIT 1""",
        (incident.incident_id,)).fetchone()
    assert row is not None
    return Decision(incident.incident_id, row[0], Action(row[1]), Delivery(row[2]), row[3],
                    row[4], row[5], None, row[6])


def handle_incident(
    conn: psycopg.Connection, incident: IncidentInfo, customer: CustomerInfo, *,
    now: datetime, p_home: PHome, config: DispatchConfig = DispatchConfig(),
    away_until: datetime | None = None, search: SearchConfig | None = None,
) -> Outcome:
    """Decide, hold a visit if one is needed, and queue the email, atomically and once;
    a non-urgent visit of a household away until `away_until` is proposed after it, with
    `search` (default: the config's; `SearchConfig.for_household` sets how clearly likelier
    home a later slot must be for the evidence behind `p_home`)."""
    with conn.transaction():
        # serialise decisions per customer so two workers cannot both spend the day's budget
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('dispatch:' || %s))",
                     (customer.customer_id,))
        remembered = _with_history(conn, incident, now=now, config=config)
        if remembered is None:  # the same episode, handled recently: nothing new to do
            return Outcome(_existing(conn, incident), duplicate=True)
        incident = remembered
        counts = outbox.emails_by_day(conn, customer.customer_id, customer.tz, around=now)
        d = decide(incident, customer, now=now, emails_by_day=counts, config=config.policy,
                   away_until=away_until)
        decision_id = outbox.insert_decision(conn, d, device_id=incident.device_id,
                                             fault_code=incident.fault.code, at=now)
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
            # the hold runs from when the email can first be read (after quiet hours)
            readable = max(d.send_at or now, now)
            hold = (config.urgent_hold_minutes if d.urgent else config.hold_minutes) \
                + int((readable - now).total_seconds()) // 60
            after = max(filter(None, (d.away_until, readable)))
            proposal = propose_visit(conn, incident_id=incident.incident_id,
                                     customer_id=customer.customer_id, req=req, p_home=p_home,
                                     now=now, hold_minutes=hold,
                                     config=not_before(search or config.search, now=now,
                                                       start=after))
            if proposal is not None:
                visit_id = proposal.visit_id
                visit = _visit_payload(conn, proposal, customer, incident)
                if config.snapshot_before_visit:
                    _ask_snapshot(conn, incident, proposal, now=now)
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


def incident_info(conn: psycopg.Connection, *, incident_id: str, device_id: str, model_id: str,
                  code: str, opened_at: datetime, ports: Ports,
                  language: str = "en") -> IncidentInfo | None:
    """An incident value with its catalog entry (None for a code the catalog does not know)."""
    fault = adapter.load_fault(conn, model_id, code, language)
    if fault is None:
        return None
    return IncidentInfo(incident_id, device_id, model_id, fault, opened_at,
                        appliance_kind=adapter.model_kind(conn, model_id),
                        remaining_life=ports.remaining_life(conn, incident_id))


def dispatch_incident(conn: psycopg.Connection, *, incident_id: str, device_id: str,
                      model_id: str, code: str, now: datetime, ports: Ports,
                      config: DispatchConfig = DispatchConfig()) -> Outcome | None:
    """Handle an incident from the rule engine for the device's customer, with the catalog
    entry in the customer's language and the household's learned P(home). None when the
    device has no customer or the code is unknown."""
    customer = adapter.load_customer(conn, device_id=device_id)
    if customer is None:
        return None
    incident = incident_info(conn, incident_id=incident_id, device_id=device_id,
                             model_id=model_id, code=code, opened_at=now, ports=ports,
                             language=customer.language)
    if incident is None:
        return None
    a = availability_for(conn, customer, now=now, ports=ports)
    return handle_incident(conn, incident, customer, now=now, p_home=a.at, config=config,
                           away_until=household_away_until(conn, customer, now=now,
                                                           ports=ports),
                           search=config.search.for_household(days=a.days,
                                                              homebody=a.homebody))


def household_away_until(conn: psycopg.Connection, customer: CustomerInfo, *, now: datetime,
                         ports: Ports, config: AwayConfig | None = None) -> datetime | None:
    """When a household that is away now is likely back (usage consent only), else None."""
    if not customer.consent_availability:
        return None
    config = config or AwayConfig()
    times = adapter.load_usage_times(conn, customer.customer_id, since=now - config.history,
                                     until=now, ports=ports)
    return detect(times, now=now, config=config).visit_after


def still_broken(conn: psycopg.Connection, incident_id: str, *, now: datetime, ports: Ports,
                 config: DispatchConfig = DispatchConfig()) -> int | None:
    """The customer says self-help did not fix it: propose a visit (its own email, or a job
    for the scheduler when they cannot be emailed); the held visit's id, if any."""
    found = adapter.load_incident(conn, incident_id)
    if found is None:
        return None
    customer, incident = found
    incident = replace(incident, self_help_tried=True, still_broken=True)
    a = availability_for(conn, customer, now=now, ports=ports)
    out = handle_incident(conn, incident, customer, now=now, p_home=a.at, config=config,
                          away_until=household_away_until(conn, customer, now=now,
                                                           ports=ports),
                          search=config.search.for_household(days=a.days,
                                                             homebody=a.homebody))
    return out.visit_id
