"""How dates, people and appliances read to a customer: Babel in their language and zone. Pure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_interval, format_time

KINDS = {
    "en": {"washer": "washing machine", "dryer": "tumble dryer", "dishwasher": "dishwasher",
           "fridge": "fridge-freezer", "heat_pump": "heat pump", "water_heater": "water heater"},
    "de": {"washer": "Waschmaschine", "dryer": "Wäschetrockner", "dishwasher": "Geschirrspüler",
           "fridge": "Kühl-Gefrier-Kombination", "heat_pump": "Wärmepumpe",
           "water_heater": "Warmwasserspeicher"},
}
PARTS_OF_DAY = ((0, "morning"), (12, "afternoon"), (17, "evening"))
DAY = {"de_DE": "EEEE, d. MMMM", "en_GB": "EEEE d MMMM", "en_US": "EEEE, MMMM d"}
SHORT_DAY = {"de_DE": "EEE, d. MMM", "en_GB": "EEE d MMM", "en_US": "EEE, MMM d"}
CLOCK = {"de_DE": "HH:mm", "en_GB": "HH:mm", "en_US": "h:mm a"}


def locale_for(language: str, tz: str = "UTC") -> str:
    """The Babel locale: German, or English as written where the customer lives."""
    if language == "de":
        return "de_DE"
    return "en_US" if tz.startswith(("America/", "US/")) else "en_GB"


def visit_when(start: datetime, end: datetime, tz: str, language: str) -> str:
    """'Tuesday, 24 November 2026, 10:00–11:30' in the customer's zone and language."""
    zone, loc = ZoneInfo(tz), locale_for(language, tz)
    a, b = start.astimezone(zone), end.astimezone(zone)
    day = format_date(a, "full", locale=loc)
    skeleton = "hm" if loc == "en_US" else "Hm"
    return f"{day}, {format_interval(a, b, skeleton, tzinfo=zone, locale=loc)}"


def short_when(start: datetime, tz: str, language: str) -> str:
    """'Tue 24 Nov, 10:00' for a subject line."""
    zone, loc = ZoneInfo(tz), locale_for(language, tz)
    a = start.astimezone(zone)
    return f"{format_date(a, SHORT_DAY[loc], locale=loc)}, {format_time(a, CLOCK[loc], locale=loc)}"


def moment(at: datetime, tz: str, language: str) -> str:
    """'Wednesday 25 November, 12:00': when a reservation ends, for example."""
    zone, loc = ZoneInfo(tz), locale_for(language, tz)
    a = at.astimezone(zone)
    return f"{format_date(a, DAY[loc], locale=loc)}, {format_time(a, CLOCK[loc], locale=loc)}"


def part_of_day(at: datetime, tz: str) -> str:
    """'morning', 'afternoon' or 'evening' of a local time."""
    hour = at.astimezone(ZoneInfo(tz)).hour
    return [name for start, name in PARTS_OF_DAY if hour >= start][-1]


def first_name(full_name: str) -> str:
    """The first name a customer may see ('Anna Berg (T10)' -> 'Anna'); no internal codes."""
    words = full_name.split("(")[0].split()
    return words[0] if words else ""


def appliance(kind: str, language: str) -> str:
    """The appliance's everyday name in the language ('washing machine')."""
    words = KINDS.get(language, KINDS["en"])
    return words.get(kind, kind.replace("_", " "))
