"""Request and response bodies of the registry API (validated by pydantic, shown in OpenAPI)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class CustomerFields(BaseModel):
    """Fields a customer may be created or updated with."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, pattern=EMAIL, max_length=254)
    language: Literal["en", "de"] | None = None
    time_zone: str | None = Field(default=None, examples=["Europe/Berlin"])
    phone: str | None = Field(default=None, max_length=40)
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = Field(default=None, max_length=2)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    preferred_channel: Literal["email", "phone"] | None = None
    quiet_start: time | None = None
    quiet_end: time | None = None

    @field_validator("name", "email", "language", "time_zone", "phone", "street", "postal_code",
                     "city", "country", "preferred_channel", "quiet_start", "quiet_end",
                     mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # a field left out is not changed; only lat and lon may be set to null (no location)
        if value is None:
            raise ValueError("may be left out but not null (only lat and lon may be null)")
        return value


class CustomerIn(CustomerFields):
    """A new customer: name and email are required."""

    customer_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(pattern=EMAIL, max_length=254)


class CustomerOut(BaseModel):
    """A customer as stored."""

    customer_id: str
    name: str
    email: str
    language: str
    time_zone: str
    phone: str
    street: str
    postal_code: str
    city: str
    country: str
    lat: float | None
    lon: float | None
    preferred_channel: str
    quiet_start: time
    quiet_end: time


class ConsentIn(BaseModel):
    """A consent decision to record."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["proactive_email", "usage_for_availability"]
    granted: bool
    source: str = Field(min_length=1, max_length=100, examples=["phone-call"])


class ConsentChangeOut(BaseModel):
    """One recorded consent decision."""

    kind: str
    granted: bool
    source: str
    recorded_at: datetime | None


class ConsentsOut(BaseModel):
    """The consents in force, with their history (oldest first)."""

    proactive_email: bool
    usage_for_availability: bool
    history: list[ConsentChangeOut]


class HouseholdIn(BaseModel):
    """A new household of a customer."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    household_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    label: str = Field(default="home", min_length=1, max_length=100)


class HouseholdOut(BaseModel):
    """A household and the ids of its devices."""

    household_id: str
    customer_id: str
    label: str
    devices: list[str] = []


class DeviceIn(BaseModel):
    """A device to register."""

    model_config = ConfigDict(extra="forbid")

    model_id: str = Field(min_length=1, examples=["WM-800"])
    device_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    firmware: str = Field(default="", pattern=r"^(\d+(\.\d+)*)?$", examples=["2.1"])
    household_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


class DeviceOut(BaseModel):
    """A registered device (never its secret)."""

    key: int
    device_id: str
    model_id: str
    firmware: str
    state: str
    household_id: str | None
    online: bool | None
    last_seen: datetime | None
    created_at: datetime


class DeviceSecretOut(BaseModel):
    """A device and its new secret: shown once, never again."""

    device: DeviceOut
    secret: str


class ImportOut(BaseModel):
    """A bulk import that succeeded: the new devices' secrets, shown once."""

    imported: int
    secrets: dict[str, str]
