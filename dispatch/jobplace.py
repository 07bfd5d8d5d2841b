"""Placing a job from the schedulers' list on a technician at a time (adapter).

A job without a live visit gets a booked one there, checked like a move; a job that still has
a held or booked visit is moved instead, so the job keeps its visit and number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
from psycopg import errors

from devices.audit import audit
from dispatch import adapter, booking_store, jobmove
from dispatch.booking import VisitRequest
from dispatch.movecheck import Wanted
from dispatch.ports import Ports
from dispatch.types import CustomerInfo


class JobUnknown(Exception):
    """No decision, customer or catalog entry says what this job needs; the message says which."""


def visit_request(conn: psycopg.Connection, incident_id: str
                  ) -> tuple[CustomerInfo, VisitRequest]:
    """The customer and what a visit for this incident needs (skill, length, place)."""
    row = conn.execute("""SELECT device_id, fault_code, urgent FROM dispatch_decisions
                          WHERE incident_id = %s AND device_id <> '' ORDER BY id DESC LIMIT 1""",
                       (incident_id,)).fetchone()
    if row is None:
        raise JobUnknown(f"no dispatch decision names the device of {incident_id}")
    device_id, code, urgent = row
    customer = adapter.load_customer(conn, device_id=device_id)
    model = conn.execute("SELECT model_id FROM devices WHERE device_id = %s",
                         (device_id,)).fetchone()
    fault = adapter.load_fault(conn, model[0], code) if model else None
    if customer is None or fault is None:
        raise JobUnknown("the device has no customer or the fault is not in the catalog")
    return customer, VisitRequest(skill=fault.skill, minutes=fault.visit_minutes,
                                  lat=customer.lat, lon=customer.lon,
                                  urgent=urgent or fault.urgent, parts=fault.parts)


def place_job(conn: psycopg.Connection, incident_id: str, *, technician_id: int,
              starts_at: datetime, actor: str, now: datetime, ports: Ports, tz: str = "UTC",
              confirm: bool = False) -> jobmove.Moved:
    """Book the job on `technician_id` at `starts_at` (checked; warnings need `confirm`)."""
    current = booking_store.current_visit(conn, incident_id)
    if current is not None:
        return jobmove.move_job(conn, current[0], technician_id=technician_id,
                                starts_at=starts_at, actor=actor, now=now, ports=ports,
                                tz=tz, confirm=confirm)
    try:
        customer, req = visit_request(conn, incident_id)
    except JobUnknown as exc:
        raise jobmove.MoveRefused(str(exc)) from None
    w = Wanted(req.skill, req.minutes, req.lat, req.lon, customer.tz, customer.quiet_start,
               customer.quiet_end)
    ends_at = starts_at + timedelta(minutes=req.minutes)
    try:
        with conn.transaction():
            t = jobmove.technician(conn, technician_id, lock=True)
            if t is None:
                raise jobmove.MoveRefused(f"there is no active technician {technician_id}")
            verdict = jobmove.check(conn, t, w, customer, starts_at, now=now, tz=tz,
                                    ports=ports)
            jobmove.decide(verdict, confirm)
            row = conn.execute(
                """INSERT INTO visits (technician_id, incident_id, customer_id, starts_at,
                                       ends_at, state, lat, lon, skill, parts, urgent)
                   VALUES (%s, %s, %s, %s, %s, 'booked', %s, %s, %s, %s, %s) RETURNING id""",
                (technician_id, incident_id, customer.customer_id, starts_at, ends_at,
                 req.lat, req.lon, req.skill, list(req.parts), req.urgent)).fetchone()
            assert row is not None
            audit(conn, actor=actor, action="job.dispatch", subject_type="visit",
                  subject_id=str(row[0]),
                  detail={"from": "board", "incident_id": incident_id,
                          "to": {"technician_id": technician_id,
                                 "starts_at": starts_at.isoformat()},
                          "warnings": list(verdict.warnings)})
    except (errors.ExclusionViolation, errors.DeadlockDetected):
        raise jobmove.MoveRefused("Another change took that time on this calendar just now. "
                                  "Nothing was changed.") from None
    return jobmove.Moved(int(row[0]), incident_id, technician_id, starts_at, ends_at,
                         verdict.warnings, verdict.travel_before_min, verdict.travel_after_min)
