"""What a signed link does, once: confirm, choose another slot, cancel, fixed, unsubscribe.

`perform` records the first use of a token with its outcome in the same transaction as the
action; a second click returns that outcome without acting again. Links for a visit that has
moved on (released, cancelled, expired) report that instead of acting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from dispatch import booking_store
from dispatch.links import Claim, token_hash

FINAL = {"booked", "already_booked", "cancelled", "moved", "fixed", "unsubscribed", "expired",
         "released", "done", "unknown"}


@dataclass(frozen=True)
class Result:
    """The outcome of a link: `repeated` when this token had been used before."""

    action: str
    outcome: str
    repeated: bool = False
    visit_id: int | None = None


def previous_use(conn: psycopg.Connection, token: str) -> str | None:
    """The recorded outcome of a used token, if any."""
    row = conn.execute("SELECT outcome FROM link_uses WHERE token_hash = %s",
                       (token_hash(token),)).fetchone()
    return None if row is None else str(row[0])


def customer_of(conn: psycopg.Connection, claim: Claim) -> str | None:
    """The customer id a claim concerns (for language and checks)."""
    if claim.action == "unsubscribe":
        return claim.subject
    if claim.action in ("confirm", "cancel"):
        row = conn.execute("SELECT customer_id FROM visits WHERE id = %s",
                           (int(claim.subject) if claim.subject.isdigit() else -1,)).fetchone()
    else:
        row = conn.execute("SELECT customer_id FROM dispatch_decisions WHERE incident_id = %s "
                           "ORDER BY id LIMIT 1", (claim.subject,)).fetchone()
    return None if row is None else str(row[0])


def _act(conn: psycopg.Connection, claim: Claim, *, now: datetime,
         rank: int | None) -> tuple[str, int | None]:
    if claim.action == "confirm":
        return booking_store.confirm_visit(conn, int(claim.subject), now=now), None
    if claim.action == "cancel":
        return booking_store.cancel_visit(conn, int(claim.subject)), None
    if claim.action == "choose":
        if rank is None:
            return "pick", None
        vid = booking_store.choose_offer(conn, incident_id=claim.subject, rank=rank, now=now)
        return ("moved", vid) if vid is not None else ("taken", None)
    if claim.action == "fixed":
        conn.execute(
            """INSERT INTO customer_feedback (incident_id, customer_id, kind)
               VALUES (%s, coalesce((SELECT customer_id FROM dispatch_decisions
                                     WHERE incident_id = %s LIMIT 1), ''), 'fixed')
               ON CONFLICT DO NOTHING""", (claim.subject, claim.subject))
        conn.execute("""UPDATE visits SET state = 'cancelled', updated_at = now()
                        WHERE incident_id = %s AND state = 'held'""", (claim.subject,))
        return "fixed", None
    if claim.action == "unsubscribe":
        conn.execute("""INSERT INTO email_unsubscribes (customer_id) VALUES (%s)
                        ON CONFLICT DO NOTHING""", (claim.subject,))
        conn.execute("""UPDATE email_outbox SET state = 'cancelled'
                        WHERE customer_id = %s AND state = 'pending'""", (claim.subject,))
        return "unsubscribed", None
    raise ValueError(f"unknown action {claim.action!r}")


def perform(conn: psycopg.Connection, claim: Claim, token: str, *, now: datetime,
            rank: int | None = None) -> Result:
    """Carry out a verified link once (autocommit connection); a repeat returns the outcome."""
    key = token_hash(token)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
        before = previous_use(conn, token)
        if before is not None:
            return Result(claim.action, before, repeated=True)
        outcome, visit_id = _act(conn, claim, now=now, rank=rank)
        if outcome in FINAL:
            conn.execute("""INSERT INTO link_uses (token_hash, action, subject, outcome)
                            VALUES (%s, %s, %s, %s)""", (key, claim.action, claim.subject, outcome))
    return Result(claim.action, outcome, visit_id=visit_id)
