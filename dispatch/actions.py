"""What a signed link does, once: confirm, choose or pick another slot, cancel, fixed, still
broken, unsubscribe.

`perform` takes the incident's appointment lock (so concurrent clicks on any of its links run
one after another), records the first use of the decoded token with its outcome in the same
transaction as the action, and tells the customer about a change of their visit with one email.
A second use returns the recorded outcome without acting again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from dispatch import appointments, booking_store
from dispatch.availability_store import learn_from_visit
from dispatch.links import Claim, parse_pick
from dispatch.ports import Ports

FINAL = {"booked", "already_booked", "cancelled", "moved", "fixed", "unsubscribed", "expired",
         "released", "done", "already", "gone", "still_broken", "nothing"}


@dataclass(frozen=True)
class Result:
    """The outcome of a link: `repeated` when this token had been used before."""

    action: str
    outcome: str
    repeated: bool = False
    visit_id: int | None = None


def previous_use(conn: psycopg.Connection, claim: Claim) -> str | None:
    """The recorded outcome of a used token, if any."""
    row = conn.execute("SELECT outcome FROM link_uses WHERE token_hash = %s",
                       (claim.key,)).fetchone()
    return None if row is None else str(row[0])


def incident_of(conn: psycopg.Connection, claim: Claim) -> str | None:
    """The incident a claim is about (None for unsubscribe or an unknown visit)."""
    if claim.action in ("confirm", "cancel"):
        if not claim.subject.isdigit():
            return None
        return appointments.incident_of(conn, int(claim.subject))
    if claim.action == "pick":
        picked = parse_pick(claim.subject)
        return None if picked is None else picked[0]
    if claim.action == "unsubscribe":
        return None
    return claim.subject


def customer_of(conn: psycopg.Connection, claim: Claim) -> str | None:
    """The customer id a claim concerns (for language and checks)."""
    if claim.action == "unsubscribe":
        return claim.subject
    incident = incident_of(conn, claim)
    row = conn.execute("SELECT customer_id FROM dispatch_decisions WHERE incident_id = %s "
                       "ORDER BY id LIMIT 1", (incident,)).fetchone()
    return None if row is None else str(row[0])


def _pick(conn: psycopg.Connection, claim: Claim, incident: str, *,
          now: datetime) -> tuple[str, int | None]:
    picked = parse_pick(claim.subject)
    assert picked is not None
    _, tech, start = picked
    current = appointments.live(conn, incident, now=now)
    if current is not None and current.technician_id == tech and current.starts_at == start:
        return "already", current.id
    rank = next((i for i, o in enumerate(booking_store.load_offers(conn, incident))
                 if o.technician_id == tech and o.start == start), None)
    if rank is None:
        return "gone", None
    vid = booking_store.choose_offer(conn, incident_id=incident, rank=rank, now=now)
    return ("moved", vid) if vid is not None else ("taken", None)


def _picked(conn: psycopg.Connection, before: appointments.VisitRow | None,
            chosen: int | None, now: datetime) -> None:
    """The customer chose another time than the one proposed: evidence for their household."""
    if before is not None and chosen is not None and chosen != before.id:
        learn_from_visit(conn, before.id, "picked_another", chosen_visit_id=chosen, at=now)


def _feedback(conn: psycopg.Connection, incident: str, kind: str) -> None:
    conn.execute(
        """INSERT INTO customer_feedback (incident_id, customer_id, kind)
           VALUES (%s, coalesce((SELECT customer_id FROM dispatch_decisions
                                 WHERE incident_id = %s LIMIT 1), ''), %s)
           ON CONFLICT DO NOTHING""", (incident, incident, kind))


def _act(conn: psycopg.Connection, claim: Claim, incident: str | None, *, now: datetime,
         rank: int | None, ports: Ports) -> tuple[str, int | None]:
    if claim.action == "unsubscribe":
        conn.execute("""INSERT INTO email_unsubscribes (customer_id) VALUES (%s)
                        ON CONFLICT DO NOTHING""", (claim.subject,))
        conn.execute("""UPDATE email_outbox SET state = 'cancelled'
                        WHERE customer_id = %s AND state = 'pending'""", (claim.subject,))
        return "unsubscribed", None
    if incident is None:
        return "unknown", None
    if claim.action == "confirm":
        result = booking_store.confirm_visit(conn, int(claim.subject), now=now)
        if result == "booked":  # they will be home then: evidence for their household
            learn_from_visit(conn, int(claim.subject), "confirmed", at=now)
        return result, None
    if claim.action == "cancel":  # cancels the visit the appointment has now, wherever it moved
        current = appointments.live(conn, incident, now=now)
        if current is None:
            return "nothing", None
        return booking_store.cancel_visit(conn, current.id), current.id
    if claim.action == "choose":
        if rank is None:
            return "pick", None
        before = appointments.live(conn, incident, now=now)
        vid = booking_store.choose_offer(conn, incident_id=incident, rank=rank, now=now)
        _picked(conn, before, vid, now)
        return ("moved", vid) if vid is not None else ("taken", None)
    if claim.action == "pick":
        before = appointments.live(conn, incident, now=now)
        result = _pick(conn, claim, incident, now=now)
        if result[0] == "moved":
            _picked(conn, before, result[1], now)
        return result
    if claim.action == "fixed":
        _feedback(conn, incident, "fixed")
        conn.execute("""UPDATE visits SET state = 'cancelled', updated_at = now()
                        WHERE incident_id = %s AND state = 'held'""", (incident,))
        return "fixed", None
    if claim.action == "broken":
        from dispatch.service import still_broken  # the service imports this module's peers

        _feedback(conn, incident, "still_broken")
        return "still_broken", still_broken(conn, incident, now=now, ports=ports)
    raise ValueError(f"unknown action {claim.action!r}")


def perform(conn: psycopg.Connection, claim: Claim, *, now: datetime, ports: Ports,
            rank: int | None = None) -> Result:
    """Carry out a verified link once (autocommit connection); a repeat returns the outcome."""
    with conn.transaction():
        incident = incident_of(conn, claim)
        if incident is not None:
            appointments.lock(conn, incident)
        else:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (claim.key,))
        before = previous_use(conn, claim)
        if before is not None:
            return Result(claim.action, before, repeated=True)
        outcome, visit_id = _act(conn, claim, incident, now=now, rank=rank, ports=ports)
        if outcome in FINAL:
            conn.execute("""INSERT INTO link_uses (token_hash, action, subject, outcome)
                            VALUES (%s, %s, %s, %s)""",
                         (claim.key, claim.action, claim.subject, outcome))
        if incident is not None and claim.action != "broken":
            appointments.record_change(conn, incident, now=now, by="customer")
    return Result(claim.action, outcome, visit_id=visit_id)
