"""Hand-built households for the availability tests: event times from a daily routine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday morning
Routine = Callable[[int], list[tuple[int, int]]]


def events(weeks: int, routine: Routine) -> list[int]:
    """Event times over the last `weeks` weeks: routine(weekday) -> [(hour, minute)]."""
    out = []
    for d in range(weeks * 7, 0, -1):
        day = NOW.replace(hour=0) - timedelta(days=d)
        out += [int((day + timedelta(hours=h, minutes=m)).timestamp())
                for h, m in routine(day.weekday())]
    return out


def nine_to_five(wd: int) -> list[tuple[int, int]]:
    """Out 07:30-17:30 on weekdays, about at weekends."""
    if wd < 5:
        return [(6, 40), (7, 5), (7, 20), (17, 50), (18, 30), (19, 10), (19, 40), (21, 0)]
    return [(9, 0), (11, 30), (13, 0), (15, 0), (18, 0), (19, 0)]


def night_shift(wd: int) -> list[tuple[int, int]]:
    """Out 21:00-07:00, asleep 08:30-14:00."""
    return [(7, 20), (7, 50), (14, 20), (15, 10), (16, 30), (17, 40), (18, 50), (19, 30)]


def retiree(wd: int) -> list[tuple[int, int]]:
    """Home all day, events from morning to evening."""
    return [(7, 30), (8, 10), (9, 40), (11, 50), (12, 30), (15, 0), (17, 30), (18, 40), (19, 20)]


def late_riser(wd: int) -> list[tuple[int, int]]:
    """Asleep till after 10:00, home until mid-afternoon, out 16:00-21:00 every day: fridge
    and microwave only (a real home's appliance log, sparse)."""
    return [(10, 30), (14, 0), (14, 20), (22, 10), (22, 40)]
