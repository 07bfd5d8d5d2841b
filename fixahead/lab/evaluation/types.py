"""Plain values the scorer works on: what the platform recorded, read from its tables.

Times named `*_ms` are event time (epoch milliseconds, the simulator's clock); times named
`*_s` are wall-clock epoch seconds (when a row reached the database).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Incident:
    """An incident row: one device and fault episode."""

    key: str
    device_id: str
    fault: str
    kind: str
    action: str
    opened_ms: int
    closed_ms: int | None = None
    sources: tuple[str, ...] = ()  # the rules (and error codes) that contributed


@dataclass(frozen=True)
class EmailItem:
    """What one email says about one incident (a digest holds several)."""

    incident_key: str
    kind: str  # self_help | visit | urgent (a digest item keeps its decision's action)


@dataclass(frozen=True)
class Email:
    """An outbox row that is not cancelled: one email to a customer."""

    outbox_id: int
    kind: str  # self_help | visit | urgent | digest | reminder | confirmation
    created_s: float
    items: tuple[EmailItem, ...] = ()
    state: str = "pending"
    reply: bool = False  # the answer to a customer's own click (a confirmation they asked for)


@dataclass(frozen=True)
class Visit:
    """A visit proposed for an incident (held, booked, released after expiry or done)."""

    visit_id: int
    incident_key: str
    start_ms: int
    end_ms: int
    state: str
    urgent: bool = False


@dataclass(frozen=True)
class ErrorArrival:
    """An error-code event as stored by ingest: its event time and when it arrived."""

    device_id: str
    code: str
    time_ms: int
    received_s: float


@dataclass(frozen=True)
class Records:
    """Everything the platform recorded for a run, plus the baseline's slots.

    `baseline` maps an incident key to the first-free slot (start_ms, end_ms) that the
    baseline search finds for the same visit request, or None when it finds none.
    `catalog_codes` maps a model id to its error codes, so an incident's fault can be told
    to be a catalog code (matched by code) or not (matched by time).
    """

    incidents: tuple[Incident, ...] = ()
    emails: tuple[Email, ...] = ()
    visits: tuple[Visit, ...] = ()
    errors: tuple[ErrorArrival, ...] = ()
    baseline: Mapping[str, tuple[int, int] | None] = field(default_factory=dict)
    catalog_codes: Mapping[str, frozenset[str]] = field(default_factory=dict)
