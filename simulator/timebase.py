"""Simulated time: the run's window, days, slots and weekdays. Pure; times are epoch ms (UTC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

MINUTE_MS = 60_000
SLOT_MIN = 15
SLOT_MS = SLOT_MIN * MINUTE_MS
DAY_MS = 86_400_000
SLOTS_PER_DAY = DAY_MS // SLOT_MS
MINUTES_PER_DAY = 1440


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """An independent random stream for (seed, key...): the same key always gives the same draws."""
    return np.random.default_rng([seed & 0xFFFFFFFF, *key])


@dataclass(frozen=True)
class Window:
    """The simulated interval [start_ms, end_ms) and the whole UTC days that cover it."""

    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        if self.end_ms <= self.start_ms:
            raise ValueError(f"window end {self.end_ms} must be after start {self.start_ms}")

    @property
    def first_day(self) -> int:
        """Epoch day (UTC) that contains the start."""
        return self.start_ms // DAY_MS

    @property
    def n_days(self) -> int:
        """How many whole days, from `first_day`, cover the window."""
        return -(-self.end_ms // DAY_MS) - self.first_day

    @property
    def days(self) -> float:
        """Length of the window in days."""
        return (self.end_ms - self.start_ms) / DAY_MS


def window_ending_now(days: float, speed: float, now_ms: int) -> Window:
    """The window played at `speed` that ends when the run ends, so no timestamp is in the future.

    Played from `now_ms`, the run lasts days/speed of wall time and ends at now + days/speed; the
    window is the `days` before that. Speed 1 is live (it starts now); speed 0 means as fast as
    possible (the window ends now). The start is aligned to a slot so runs line up with presence.
    """
    length = int(days * DAY_MS)
    end = now_ms if speed <= 0 else now_ms + int(length / speed)
    start = (end - length) // SLOT_MS * SLOT_MS
    return Window(start, end)


def max_past_age_s(window: Window, speed: float, margin_s: float = 3600.0) -> float:
    """How old a message may be when ingest receives it (FIXAHEAD_MAX_PAST_AGE_S) for this run."""
    length_s = (window.end_ms - window.start_ms) / 1000
    lag_s = length_s if speed <= 0 else max(0.0, length_s - length_s / speed)
    return lag_s + margin_s


def weekday(day: int) -> int:
    """Weekday of an epoch day, Monday = 0 (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


def month_day(day: int) -> tuple[int, int]:
    """(month, day of month) of an epoch day."""
    date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
    return date.month, date.day


def day_of_year(day: int) -> int:
    """Day of the year (1-366) of an epoch day, for seasonal effects."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).timetuple().tm_yday
