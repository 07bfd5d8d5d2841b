"""An incident's appointment as the customer knows it: one calendar entry, every change told once.

The `appointments` row of an incident is the lock that serialises every change of its visits
(customer links, schedulers, expiry) and remembers what the customer was last told. After a
change, `record_change` compares the live visit with that and queues exactly one email (the
calendar entry with the same UID, SEQUENCE + 1; METHOD:CANCEL when nothing is left), or, for a
customer who cannot be emailed, a note for the scheduler. Adapter: runs in the caller's
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from dispatch import adapter, outbox
from dispatch.payload import incident_payload, visit_payload


@dataclass(frozen=True)
class VisitRow:
    """A visit as the customer pages and emails need it."""

    id: int
    incident_id: str
    state: str
    technician_id: int
    technician: str
    starts_at: datetime
    ends_at: datetime
    hold_expires_at: datetime | None


_VISIT = """SELECT v.id, v.incident_id, v.state, v.technician_id, t.name, v.starts_at,
                   v.ends_at, v.hold_expires_at
            FROM visits v JOIN technicians t ON t.id = v.technician_id"""


def visit(conn: psycopg.Connection, visit_id: int) -> VisitRow | None:
    """One visit by id."""
    row = conn.execute(_VISIT + " WHERE v.id = %s", (visit_id,)).fetchone()
    return None if row is None else VisitRow(*row)


def is_live(state: str, hold_expires_at: datetime | None, *, now: datetime) -> bool:
    """Whether a visit is one the customer can count on: booked, or held while
    `hold_expires_at > now` (the one place this rule is written in Python)."""
    return state == "booked" or (state == "held" and hold_expires_at is not None
                                 and hold_expires_at > now)


def hold_expired(state: str, hold_expires_at: datetime | None, *, now: datetime) -> bool:
    """Whether a visit is a hold that is no longer live (not yet swept to 'released')."""
    return state == "held" and not is_live(state, hold_expires_at, now=now)


def live(conn: psycopg.Connection, incident_id: str, *, now: datetime) -> VisitRow | None:
    """The incident's booked visit, or its unexpired hold: what the customer can count on."""
    rows = conn.execute(_VISIT + """ WHERE v.incident_id = %s AND v.state IN ('booked', 'held')
                                     ORDER BY v.id DESC""", (incident_id,)).fetchall()
    visits = (VisitRow(*r) for r in rows)
    return next((v for v in visits if is_live(v.state, v.hold_expires_at, now=now)), None)


@dataclass(frozen=True)
class Told:
    """What the customer was last told: the visit, its state, start and technician."""

    sequence: int
    visit_id: int | None
    state: str
    starts_at: datetime | None
    technician_id: int | None


def lock(conn: psycopg.Connection, incident_id: str) -> Told:
    """Lock the incident's appointment row (created if missing) until the transaction ends,
    and return what the customer was last told."""
    conn.execute("""INSERT INTO appointments (incident_id) VALUES (%s)
                    ON CONFLICT (incident_id) DO NOTHING""", (incident_id,))
    row = conn.execute("""SELECT sequence, told_visit_id, told_state, told_starts_at,
                                 told_technician_id FROM appointments
                          WHERE incident_id = %s FOR UPDATE""", (incident_id,)).fetchone()
    assert row is not None
    return Told(int(row[0]), row[1], str(row[2]), row[3], row[4])


def _remember(conn: psycopg.Connection, incident_id: str, v: VisitRow, state: str,
              sequence: int | None = None) -> None:
    conn.execute("""UPDATE appointments SET sequence = coalesce(%s, sequence),
                    told_visit_id = %s, told_state = %s, told_starts_at = %s,
                    told_technician_id = %s, updated_at = now() WHERE incident_id = %s""",
                 (sequence, v.id, state, v.starts_at, v.technician_id, incident_id))


def proposed(conn: psycopg.Connection, incident_id: str, v: VisitRow) -> None:
    """The customer is about to be told of this held visit (SEQUENCE 0)."""
    lock(conn, incident_id)
    _remember(conn, incident_id, v, v.state)


def incident_of(conn: psycopg.Connection, visit_id: int) -> str | None:
    """The incident a visit belongs to."""
    row = conn.execute("SELECT incident_id FROM visits WHERE id = %s", (visit_id,)).fetchone()
    return None if row is None else str(row[0])


def change_kind(told_id: int | None, told_state: str, told_now: str,
                now_visit: VisitRow | None, by: str,
                told_place: tuple[datetime | None, int | None] | None = None) -> str | None:
    """What changed since the customer was told (`told_now`: the told visit's state now;
    `told_place`: the start and technician they were told): confirmed, booked, moved,
    cancelled, lapsed (a hold that ran out), or None."""
    if now_visit is None:
        if told_id is None or told_state not in ("held", "booked"):
            return None
        return "lapsed" if told_now == "released" else "cancelled"
    if told_id == now_visit.id:
        if told_place is not None and told_place[0] is not None and told_place != (
                now_visit.starts_at, now_visit.technician_id):
            return "moved"  # the same visit, moved in place by a scheduler
        if told_state == now_visit.state:
            return None
        return "confirmed" if by == "customer" else "booked"
    return "moved" if told_id is not None and told_state in ("held", "booked") else "booked"


def record_change(conn: psycopg.Connection, incident_id: str, *, now: datetime,
                  by: str) -> int | None:
    """Tell the customer what changed (one email, calendar SEQUENCE + 1); the outbox id, or
    None when nothing changed or they cannot be emailed (then a note says why)."""
    was = lock(conn, incident_id)
    current = live(conn, incident_id, now=now)
    told = visit(conn, was.visit_id) if was.visit_id is not None else None
    kind = change_kind(was.visit_id, was.state, told.state if told else "", current, by,
                       (was.starts_at, was.technician_id))
    if kind is None:
        return None
    shown = current or told
    assert shown is not None
    sequence = was.sequence + 1
    state = current.state if current else ("released" if kind == "lapsed" else "cancelled")
    _remember(conn, incident_id, shown, state, sequence)
    found = adapter.load_incident(conn, incident_id)
    if found is None:
        return _note(conn, incident_id, f"{kind}: customer not told (no customer on record)")
    customer, incident = found
    if not customer.email or not customer.consent_email or customer.unsubscribed:
        why = ("no email address" if not customer.email else "unsubscribed"
               if customer.unsubscribed else "no consent to email")
        return _note(conn, incident_id, f"{kind} {shown.starts_at:%Y-%m-%d %H:%M}Z: customer "
                                        f"not told by email ({why}); call them")
    payload: dict[str, Any] = incident_payload("confirmation", incident, customer)
    payload.update(change=kind, by=by,
                   visit=visit_payload(shown.id, shown.technician_id, shown.technician,
                                       shown.starts_at, shown.ends_at, sequence=sequence))
    if kind == "moved" and told is not None:
        # what they were told: an in-place move has changed the told visit's own row
        start = was.starts_at or told.starts_at
        payload["previous"] = {"start": start.isoformat(),
                               "end": (start + (told.ends_at - told.starts_at)).isoformat()}
    return outbox.enqueue(conn, key=f"change:{incident_id}:{sequence}", kind="confirmation",
                          customer_id=customer.customer_id, to_addr=customer.email,
                          language=customer.language, payload=payload, send_at=now)


def _note(conn: psycopg.Connection, incident_id: str, note: str) -> None:
    """Leave the reason the customer was not emailed where the scheduler sees it."""
    conn.execute("UPDATE appointments SET note = %s WHERE incident_id = %s",
                 (note, incident_id))
    return None


def scheduler_changed(conn: psycopg.Connection, incident_id: str, *, now: datetime) -> int | None:
    """A scheduler dispatched, moved or cancelled this job: tell the customer, exactly once
    (autocommit connection; calling again without a further change queues nothing)."""
    with conn.transaction():
        return record_change(conn, incident_id, now=now, by="scheduler")


def expire_holds(conn: psycopg.Connection, *, now: datetime) -> int:
    """Release every hold past its expiry and tell each customer once; how many."""
    rows = conn.execute("""SELECT DISTINCT incident_id FROM visits
                           WHERE state = 'held' AND hold_expires_at <= %s""", (now,)).fetchall()
    for (incident_id,) in rows:
        with conn.transaction():
            lock(conn, incident_id)
            conn.execute("""UPDATE visits SET state = 'released', updated_at = now()
                            WHERE incident_id = %s AND state = 'held'
                              AND hold_expires_at <= %s""", (incident_id, now))
            record_change(conn, incident_id, now=now, by="system")
    return len(rows)
