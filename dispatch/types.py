"""Small value types dispatch works with; adapters fill them from other areas' tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

LANGUAGES = ("en", "de")


@dataclass(frozen=True)
class FaultInfo:
    """What the catalog says about a fault code, as far as dispatch needs it."""

    code: str
    title: str
    meaning: str = ""
    severity: str = "error"
    customer_fixable: bool = False
    urgent: bool = False
    skill: str = "general"
    parts: tuple[str, ...] = ()
    visit_minutes: int = 60
    self_help_steps: tuple[str, ...] = ()
    safety: str = ""  # the catalog's safety advice for this fault, in the customer's language

    def __post_init__(self) -> None:
        if self.visit_minutes <= 0:
            raise ValueError("visit_minutes must be positive")


@dataclass(frozen=True)
class IncidentInfo:
    """One fault episode of one device, as dispatch sees it."""

    incident_id: str
    device_id: str
    model_id: str
    fault: FaultInfo
    opened_at: datetime
    self_help_tried: bool = False
    recurred: bool = False
    still_broken: bool = False  # the customer said the self-help did not fix it
    appliance_kind: str = ""  # washer, fridge, ... (the catalog's model kind)
    # the rule engine's remaining-life estimate of a prediction: {days, lo, hi (None:
    # open-ended)}, from the incident's `detail`
    remaining_life: dict[str, float | None] | None = None

    def __post_init__(self) -> None:
        if self.opened_at.tzinfo is None:
            raise ValueError("opened_at must be timezone-aware")


@dataclass(frozen=True)
class CustomerInfo:
    """A customer and their household, with the preferences dispatch must respect."""

    customer_id: str
    email: str
    name: str = ""
    language: str = "en"
    tz: str = "UTC"
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    consent_email: bool = False
    consent_availability: bool = False
    lat: float = 0.0
    lon: float = 0.0
    territory: str = ""
    unsubscribed: bool = False

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # raises for an unknown zone
        if self.language not in LANGUAGES:
            object.__setattr__(self, "language", "en")

    @property
    def zone(self) -> ZoneInfo:
        """The household's time zone."""
        return ZoneInfo(self.tz)
