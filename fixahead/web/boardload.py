"""What a board row adds up to (pure): each technician's load per day, and the travel
between consecutive jobs (great-circle distance at the booking search's urban speed)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dispatch.geo import haversine_km
from fixahead.web.board import Job

LOAD_STATES = ("held", "booked", "done")


@dataclass(frozen=True)
class Shift:
    """When a technician works: hours, weekdays (Monday = 0), days off, zone."""

    work_start: time
    work_end: time
    work_days: frozenset[int]
    days_off: frozenset[date]
    tz: str = "UTC"

    def hours_on(self, day: date) -> float:
        """Working hours on a day (0 on a day off or a day not worked)."""
        if day in self.days_off or day.weekday() not in self.work_days:
            return 0.0
        start = datetime.combine(day, self.work_start)
        return (datetime.combine(day, self.work_end) - start).total_seconds() / 3600


class Load(NamedTuple):
    """Booked hours of working hours on one day."""

    booked_h: float
    work_h: float

    @property
    def percent(self) -> int:
        """Booked as a percentage of working hours (100 for work on a day off)."""
        if self.work_h <= 0:
            return 100 if self.booked_h > 0 else 0
        return round(self.booked_h / self.work_h * 100)

    @property
    def text(self) -> str:
        """For example `5.5 / 9 h`, or `off`."""
        if self.work_h <= 0 and self.booked_h <= 0:
            return "off"
        return f"{self.booked_h:.3g} / {self.work_h:.3g} h"


def day_spans(days: Iterable[date], tz: str) -> list[tuple[float, float]]:
    """Whole local days as (start, end) epoch seconds."""
    zone = ZoneInfo(tz)
    return [(datetime.combine(d, time(0), zone).timestamp(),
             datetime.combine(d + timedelta(days=1), time(0), zone).timestamp()) for d in days]


def loads(jobs: list[Job], shifts: dict[int, Shift], days: list[date], tz: str
          ) -> dict[tuple[int, int], Load]:
    """Load per (technician id, day index) for every technician in `shifts`."""
    spans = day_spans(days, tz)
    starts = [d0 for d0, _ in spans]
    booked: dict[tuple[int, int], float] = {}
    for j in jobs:
        if j.state not in LOAD_STATES:
            continue
        i = max(bisect_right(starts, j.start_s) - 1, 0)
        while i < len(spans) and spans[i][0] < j.end_s:  # usually one day, more over midnight
            overlap = min(j.end_s, spans[i][1]) - max(j.start_s, spans[i][0])
            if overlap > 0:
                key = (j.technician_id, i)
                booked[key] = booked.get(key, 0.0) + overlap / 3600
            i += 1
    return {(tid, i): Load(round(booked.get((tid, i), 0.0), 2), shift.hours_on(d))
            for tid, shift in shifts.items() for i, d in enumerate(days)}


class Leg(NamedTuple):
    """The drive to a job from the one before it on the same day."""

    minutes: int
    km: float
    gap_minutes: int

    @property
    def late(self) -> bool:
        """The gap between the jobs is shorter than the drive."""
        return self.gap_minutes < self.minutes


def legs(jobs: list[Job], speed_kmh: float, *, max_gap_h: float = 10.0) -> dict[int, Leg]:
    """The leg into each job (by visit id) from the technician's previous job that day."""
    out: dict[int, Leg] = {}
    prev: Job | None = None
    for j in sorted(jobs, key=lambda j: (j.technician_id, j.start_s)):
        if (prev is not None and prev.technician_id == j.technician_id
                and 0 <= j.start_s - prev.end_s <= max_gap_h * 3600):
            km = haversine_km(prev.lat, prev.lon, j.lat, j.lon)
            out[j.visit_id] = Leg(-(-int(km / speed_kmh * 3600) // 60), round(km, 1),
                                  int((j.start_s - prev.end_s) // 60))
        prev = j
    return out
