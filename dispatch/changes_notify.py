"""Tell the customer that a scheduler changed their visit: one email with the calendar entry
(adapter; runs in the caller's transaction).

Interim until the customer-communication flow of issue 17 lands (`appointments.
scheduler_changed` there: calendar SEQUENCE, "moved" wording); the web calls only
`scheduler_changed`, so swapping is one import. One email per distinct change: the key names
the visit, technician and start, so calling twice for the same change queues nothing new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from dispatch import adapter, outbox


def _live_visit(conn: psycopg.Connection, incident_id: str, now: datetime
                ) -> tuple[Any, ...] | None:
    return conn.execute(
        """SELECT v.id, v.technician_id, t.name, v.starts_at, v.ends_at, v.state,
                  v.hold_expires_at, v.customer_id, v.urgent, v.p_home
           FROM visits v JOIN technicians t ON t.id = v.technician_id
           WHERE v.incident_id = %s AND (v.state = 'booked'
                 OR (v.state = 'held' AND v.hold_expires_at > %s))
           ORDER BY v.id DESC LIMIT 1""", (incident_id, now)).fetchone()


def _fault(conn: psycopg.Connection, incident_id: str, language: str
           ) -> tuple[str, str, dict[str, Any]] | None:
    row = conn.execute(
        """SELECT d.device_id, dev.model_id, d.fault_code FROM dispatch_decisions d
           JOIN devices dev ON dev.device_id = d.device_id
           WHERE d.incident_id = %s AND d.device_id <> '' ORDER BY d.id DESC LIMIT 1""",
        (incident_id,)).fetchone()
    if row is None:
        return None
    f = adapter.load_fault(conn, row[1], row[2], language)
    if f is None:
        return None
    return row[0], row[1], {"code": f.code, "title": f.title, "meaning": f.meaning,
                            "severity": f.severity, "steps": list(f.self_help_steps),
                            "parts": list(f.parts)}


def scheduler_changed(conn: psycopg.Connection, incident_id: str, *,
                      now: datetime) -> int | None:
    """A scheduler moved or dispatched this job: queue one email with the visit as it is now
    (the outbox id); None when the customer cannot be emailed or has nothing to be told."""
    visit = _live_visit(conn, incident_id, now)
    if visit is None:
        return None
    vid, tech_id, tech, start, end, state, hold, customer_id, urgent, p_home = visit
    customer = adapter.load_customer(conn, customer_id=customer_id)
    if (customer is None or not customer.email or not customer.consent_email
            or customer.unsubscribed):
        return None
    found = _fault(conn, incident_id, customer.language)
    if found is None:
        return None
    device_id, model_id, fault = found
    payload = {"kind": "visit", "incident_id": incident_id, "device_id": device_id,
               "model_id": model_id, "customer_id": customer.customer_id,
               "customer_name": customer.name, "tz": customer.tz, "urgent": bool(urgent),
               "escalated": False, "fault": fault, "change": "scheduler", "away": None,
               "visit": {"visit_id": vid, "incident_id": incident_id, "state": state,
                         "start": start.isoformat(), "end": end.isoformat(),
                         "technician": tech, "alternatives": 0,
                         "hold_expires_at": hold.isoformat() if hold else None,
                         "p_home": p_home, "lat": customer.lat, "lon": customer.lon}}
    return outbox.enqueue(conn, key=f"change:{incident_id}:{vid}:{tech_id}:{start.isoformat()}",
                          kind="visit", customer_id=customer.customer_id,
                          to_addr=customer.email, language=customer.language,
                          payload=payload, send_at=now)
