"""First-free-slot baseline on the same incidents, replayed from the visits table (pure).

For each incident that got a visit, the baseline answers the same request (skill, duration,
place, urgency, parts) at the same moment (the decision's time) with
`fixahead.lab.firstfree.first_free_slot`, against the same technicians and the calendar as it was
then: visits proposed before that moment, booked ones and holds not yet expired. The
baseline's own choices are not put on the calendar (each is a counterfactual for one
incident, not a second schedule), so it sees exactly what the platform's search saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dispatch.booking import Busy, SearchConfig, Technician, VisitRequest
from fixahead.lab.firstfree import first_free_slot

DEFAULT_SEARCH = SearchConfig()
IN_FORCE = frozenset({"booked", "done"})


@dataclass(frozen=True)
class CalendarEntry:
    """A visit row as a calendar entry, with when it was proposed (None: always there)."""

    visit_id: int
    incident_key: str
    technician_id: int
    start: datetime
    end: datetime
    lat: float
    lon: float
    state: str
    proposed_at: datetime | None
    hold_expires_at: datetime | None = None
    skill: str = ""
    parts: tuple[str, ...] = ()
    urgent: bool = False

    def busy_at(self, now: datetime, visit_id: int) -> bool:
        """Whether this entry occupied its technician when `visit_id` was proposed at `now`."""
        if self.visit_id == visit_id:
            return False
        if self.proposed_at is not None and (self.proposed_at, self.visit_id) > (now, visit_id):
            return False
        if self.state in IN_FORCE:
            return True
        if self.state in ("held", "released"):
            return self.hold_expires_at is None or self.hold_expires_at > now
        return False  # cancelled: when is not recorded, so it is left out


@dataclass(frozen=True)
class Request:
    """What the platform searched for: the incident, its visit, the request and the time."""

    incident_key: str
    visit_id: int
    request: VisitRequest
    now: datetime


def first_free_slots(requests: Sequence[Request], technicians: Sequence[Technician],
                     calendar: Sequence[CalendarEntry], *,
                     config: SearchConfig = DEFAULT_SEARCH
                     ) -> dict[str, tuple[int, int] | None]:
    """Per incident key: the baseline's slot (start_ms, end_ms), or None when none is free."""
    out: dict[str, tuple[int, int] | None] = {}
    for r in requests:
        busy: dict[int, list[Busy]] = {}
        for c in calendar:
            if c.busy_at(r.now, r.visit_id):
                busy.setdefault(c.technician_id, []).append(Busy(c.start, c.end, c.lat, c.lon))
        offer = first_free_slot(r.request, technicians, busy, now=r.now, config=config)
        out[r.incident_key] = None if offer is None else (
            int(offer.start.timestamp() * 1000), int(offer.end.timestamp() * 1000))
    return out


def requests_from(calendar: Sequence[CalendarEntry]) -> list[Request]:
    """One request per incident, from its first visit that has a decision time."""
    first: dict[str, CalendarEntry] = {}
    for c in sorted(calendar, key=lambda c: c.visit_id):
        if c.proposed_at is not None:
            first.setdefault(c.incident_key, c)
    out = []
    for key, c in first.items():
        minutes = int((c.end - c.start).total_seconds() // 60)
        req = VisitRequest(skill=c.skill, minutes=minutes, lat=c.lat, lon=c.lon,
                           urgent=c.urgent, parts=c.parts)
        assert c.proposed_at is not None
        out.append(Request(key, c.visit_id, req, c.proposed_at))
    return out
