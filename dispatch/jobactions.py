"""What a scheduler does to a job: dispatch, start, complete, cannot complete (adapter).

Each action runs in one transaction with its audit record. Outcomes say what was really
wrong, so the platform can measure each rule's precision (`queries.incident_verdicts`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from devices.audit import audit
from dispatch import booking_store
from dispatch.availability_store import availability_for, learn_from_visit
from dispatch.jobplace import JobUnknown, visit_request
from dispatch.ports import Ports

OUTCOMES = ("confirmed", "other_fault", "no_fault_found")
CANNOT_REASONS = ("needs_parts", "customer_absent", "no_access", "unsafe", "other")


class ActionRefused(Exception):
    """The action does not fit the job's state; the message says why."""


def _log(conn: psycopg.Connection, actor: str, action: str, visit_id: int,
         detail: dict[str, Any] | None = None) -> None:
    audit(conn, actor=actor, action=action, subject_type="visit", subject_id=str(visit_id),
          detail=detail)


def dispatch_job(conn: psycopg.Connection, incident_id: str, *, actor: str,
                 now: datetime, ports: Ports) -> int:
    """Book the job: confirm its held visit, or search a slot and book it; the visit id."""
    current = booking_store.current_visit(conn, incident_id)
    if current is not None:
        visit_id, state = current
        if state == "booked":
            raise ActionRefused(f"job {visit_id} is booked already")
        result = booking_store.confirm_visit(conn, visit_id, now=now)
        if result != "booked":
            raise ActionRefused(f"the hold could not be booked: {result}")
        with conn.transaction():
            _log(conn, actor, "job.dispatch", visit_id, {"from": "held"})
        return visit_id
    try:
        customer, req = visit_request(conn, incident_id)
    except JobUnknown as exc:
        raise ActionRefused(str(exc)) from None
    a = availability_for(conn, customer, now=now, ports=ports)
    proposal = booking_store.propose_visit(
        conn, incident_id=incident_id, customer_id=customer.customer_id, req=req, p_home=a.at,
        now=now, hold_minutes=60,
        config=booking_store.DEFAULT_SEARCH.for_household(days=a.days, homebody=a.homebody))
    if proposal is None:
        raise ActionRefused("no qualified technician has a free slot in the next two weeks")
    booking_store.confirm_visit(conn, proposal.visit_id, now=now)
    with conn.transaction():
        _log(conn, actor, "job.dispatch", proposal.visit_id, {"from": "search"})
    return proposal.visit_id


def _booked(conn: psycopg.Connection, visit_id: int) -> tuple[str, str]:
    row = conn.execute("SELECT state, incident_id FROM visits WHERE id = %s FOR UPDATE",
                       (visit_id,)).fetchone()
    if row is None:
        raise ActionRefused(f"there is no job {visit_id}")
    return str(row[0]), str(row[1])


def start_job(conn: psycopg.Connection, visit_id: int, *, actor: str, now: datetime) -> None:
    """The technician is on site."""
    with conn.transaction():
        state, incident_id = _booked(conn, visit_id)
        if state != "booked":
            raise ActionRefused(f"job {visit_id} is {state}; only a booked job can start")
        conn.execute("""INSERT INTO visit_work (visit_id, incident_id, started_at, actor)
                        VALUES (%s, %s, %s, %s) ON CONFLICT (visit_id) DO UPDATE
                        SET started_at = EXCLUDED.started_at, actor = EXCLUDED.actor""",
                     (visit_id, incident_id, now, actor))
        _log(conn, actor, "job.start", visit_id)


def finish_job(conn: psycopg.Connection, visit_id: int, *, outcome: str, actual_code: str = "",
               reason: str = "", actor: str, now: datetime) -> None:
    """Complete with an outcome (what was really wrong), or cannot-complete with a reason:
    the visit is then released and the job goes back to the schedulers' list."""
    if outcome not in (*OUTCOMES, "cannot_complete"):
        raise ActionRefused(f"unknown outcome {outcome!r}")
    if outcome == "cannot_complete" and reason not in CANNOT_REASONS:
        raise ActionRefused(f"say why it could not be completed: {', '.join(CANNOT_REASONS)}")
    if outcome == "other_fault" and not actual_code.strip():
        raise ActionRefused("name the fault that was really there")
    with conn.transaction():
        state, incident_id = _booked(conn, visit_id)
        if state != "booked":
            raise ActionRefused(f"job {visit_id} is {state}; only a booked job can finish")
        conn.execute(
            """INSERT INTO visit_work (visit_id, incident_id, started_at, finished_at, outcome,
                                       actual_code, reason, actor)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (visit_id) DO UPDATE
               SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome,
                   actual_code = EXCLUDED.actual_code, reason = EXCLUDED.reason,
                   actor = EXCLUDED.actor,
                   started_at = coalesce(visit_work.started_at, EXCLUDED.started_at)""",
            (visit_id, incident_id, now, now, outcome, actual_code.strip()[:20], reason, actor))
        new_state = "released" if outcome == "cannot_complete" else "done"
        conn.execute("UPDATE visits SET state = %s, updated_at = now() WHERE id = %s",
                     (new_state, visit_id))
        if new_state == "done" or reason == "customer_absent":  # the household's availability
            learn_from_visit(conn, visit_id, "confirmed" if new_state == "done"
                             else "nobody_home", at=now)
        _log(conn, actor, "job.cannot_complete" if outcome == "cannot_complete"
             else "job.complete", visit_id,
             {"outcome": outcome, "actual_code": actual_code, "reason": reason})
