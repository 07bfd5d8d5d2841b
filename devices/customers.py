"""Customers, households and consents as values that validate themselves. No I/O."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, fields
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devices.catalogmodel import LANGUAGES

CONSENT_KINDS = ("proactive_email", "usage_for_availability")
CHANNELS = ("email", "phone")
IDENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_id(prefix: str) -> str:
    """A random public id such as `cus-3f9a1c2b7d4e5f60`."""
    return f"{prefix}-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Customer:
    """A customer: who to contact, how, when not to, and where the appliances are."""

    customer_id: str
    name: str
    email: str
    language: str = "en"
    time_zone: str = "UTC"
    phone: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    lat: float | None = None
    lon: float | None = None
    preferred_channel: str = "email"
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)

    def __post_init__(self) -> None:
        if not IDENT.match(self.customer_id):
            raise ValueError(f"customer_id {self.customer_id!r} must match {IDENT.pattern}")
        if not self.name.strip():
            raise ValueError("name must not be empty")
        if not _EMAIL.match(self.email):
            raise ValueError(f"email {self.email!r} is not an email address")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time_zone {self.time_zone!r} is not a known IANA zone") from None
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        if self.lat is not None and not -90 <= self.lat <= 90:
            raise ValueError("lat must be in -90..90")
        if self.lon is not None and not -180 <= self.lon <= 180:
            raise ValueError("lon must be in -180..180")
        if self.preferred_channel not in CHANNELS:
            raise ValueError(f"preferred_channel must be one of {', '.join(CHANNELS)}")
        if self.preferred_channel == "phone" and not self.phone.strip():
            raise ValueError("preferred_channel 'phone' needs a phone number")

    def in_quiet_hours(self, at: datetime) -> bool:
        """Whether `at` (aware) falls in the customer's quiet hours, in their time zone."""
        local = at.astimezone(ZoneInfo(self.time_zone)).time()
        start, end = self.quiet_start, self.quiet_end
        if start <= end:
            return start <= local < end
        return local >= start or local < end

    def replace(self, **changes: Any) -> Customer:
        """A copy with `changes` applied (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        unknown = set(changes) - set(values) - {"customer_id"}
        if unknown or "customer_id" in changes:
            raise ValueError(f"cannot change {', '.join(sorted(unknown or {'customer_id'}))}")
        values.update(changes)
        return Customer(**values)


@dataclass(frozen=True)
class Household:
    """A household: it belongs to a customer and owns devices."""

    household_id: str
    customer_id: str
    label: str = "home"

    def __post_init__(self) -> None:
        for name in ("household_id", "customer_id"):
            if not IDENT.match(getattr(self, name)):
                raise ValueError(f"{name} {getattr(self, name)!r} must match {IDENT.pattern}")


@dataclass(frozen=True)
class ConsentChange:
    """One recorded consent decision: what, granted or withdrawn, when and through what."""

    kind: str
    granted: bool
    source: str
    recorded_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in CONSENT_KINDS:
            raise ValueError(f"consent kind must be one of {', '.join(CONSENT_KINDS)}")
        if not self.source.strip():
            raise ValueError("a consent needs its source (e.g. 'web-signup', 'email-link')")


@dataclass(frozen=True)
class Consents:
    """The consents in force: the newest change of each kind; none recorded means no."""

    proactive_email: bool = False
    usage_for_availability: bool = False
    history: tuple[ConsentChange, ...] = field(default=())

    @classmethod
    def from_history(cls, history: list[ConsentChange]) -> Consents:
        """Fold changes (oldest first) into the consents in force."""
        state = dict.fromkeys(CONSENT_KINDS, False)
        for change in history:
            state[change.kind] = change.granted
        return cls(state["proactive_email"], state["usage_for_availability"], tuple(history))
