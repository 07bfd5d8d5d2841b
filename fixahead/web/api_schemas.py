"""Bodies of the jobs, technicians and incidents API (pydantic, shown in OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rules.commands import MAX_SNOOZE_H, MIN_SNOOZE_H


class JobOut(BaseModel):
    """A job: a visit on a technician's calendar for an incident."""

    id: int
    incident_id: str
    technician_id: int
    technician: str
    customer_id: str
    state: str
    urgent: bool
    starts_at: datetime
    ends_at: datetime
    hold_expires_at: datetime | None
    skill: str
    parts: list[str]
    outcome: str | None = None


class JobPage(BaseModel):
    """A page of jobs; pass `next_cursor` as `cursor` for the next one (null: no more)."""

    items: list[JobOut]
    next_cursor: str | None


class MoveIn(BaseModel):
    """Where a job should go: a technician and a start (its length is kept)."""

    model_config = ConfigDict(extra="forbid")

    technician_id: int = Field(ge=1, le=2**62)
    starts_at: datetime = Field(description="ISO 8601 with a UTC offset")
    confirm: bool = Field(False, description="go ahead despite warnings (quiet hours, "
                                             "low predicted presence)")


class OutcomeIn(BaseModel):
    """What was found on site."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["confirmed", "other_fault", "no_fault_found", "cannot_complete"]
    actual_code: str = Field(default="", max_length=20)
    reason: Literal["", "needs_parts", "customer_absent", "no_access", "unsafe", "other"] = ""


class TechnicianOut(BaseModel):
    """A technician."""

    id: int
    name: str
    skills: list[str]
    territory: str
    tz: str
    work_start: str
    work_end: str
    work_days: list[int]
    active: bool


class TechnicianPage(BaseModel):
    """A page of technicians."""

    items: list[TechnicianOut]
    next_cursor: str | None


class IncidentOut(BaseModel):
    """An incident (one fault episode of one device)."""

    key: str
    device: int
    device_id: str | None
    model_id: str | None
    fault: str
    kind: str
    severity: str
    action: str
    title: str
    state: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    sources: list[str]
    flaps: int


class IncidentPage(BaseModel):
    """A page of incidents, newest first."""

    items: list[IncidentOut]
    next_cursor: str | None


class SnoozeIn(BaseModel):
    """How long to mute new evidence of the incident's fault on its device."""

    model_config = ConfigDict(extra="forbid")

    hours: float = Field(ge=MIN_SNOOZE_H, le=MAX_SNOOZE_H, description="between a minute "
                         "and 30 days")
