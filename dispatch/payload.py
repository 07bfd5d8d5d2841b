"""What an outbox row stores for the renderer: the incident, the customer, the visit. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dispatch.types import CustomerInfo, IncidentInfo
from dispatch.wording import first_name


def incident_payload(kind: str, incident: IncidentInfo, customer: CustomerInfo, *,
                     urgent: bool = False, escalated: bool = False) -> dict[str, Any]:
    """The parts every email about an incident carries (catalog texts in the customer's
    language, safety advice included)."""
    f = incident.fault
    return {"kind": kind, "incident_id": incident.incident_id,
            "device_id": incident.device_id, "model_id": incident.model_id,
            "appliance": {"kind": incident.appliance_kind},
            "customer_id": customer.customer_id, "customer_name": customer.name,
            "tz": customer.tz, "urgent": urgent, "escalated": escalated,
            "fault": {"code": f.code, "title": f.title, "meaning": f.meaning,
                      "severity": f.severity, "steps": list(f.self_help_steps),
                      "safety": f.safety, "parts": list(f.parts)},
            "visit": None, "away": None, "remaining_life": incident.remaining_life}


def slot(technician_id: int, technician: str, start: datetime, end: datetime) -> dict[str, Any]:
    """One offered slot; the technician by first name only (no internal codes)."""
    return {"technician_id": technician_id, "technician": first_name(technician),
            "start": start.isoformat(), "end": end.isoformat()}


def visit_payload(visit_id: int, technician_id: int, technician: str, start: datetime,
                  end: datetime, *, sequence: int, hold_expires_at: datetime | None = None,
                  alternatives: Sequence[dict[str, Any]] = (),
                  p_home: float | None = None) -> dict[str, Any]:
    """The visit an email is about, with its calendar SEQUENCE and one-click alternatives."""
    return dict(slot(technician_id, technician, start, end), visit_id=visit_id,
                sequence=sequence, alternatives=list(alternatives), p_home=p_home,
                hold_expires_at=None if hold_expires_at is None else hold_expires_at.isoformat())
