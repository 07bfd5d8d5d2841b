"""Whether a job may go to a technician at a time, and what to warn about (pure).

Refusals: the past, a missing skill, a day the technician does not work, outside working
hours, an overlap, and too little time to travel from the previous job or on to the next.
Warnings (the scheduler may go ahead): the customer's quiet hours, low predicted presence.
Messages name times in the scheduler's zone (`tz`), and the customer's in theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.booking import Technician
from dispatch.geo import travel_s

LOW_P_HOME = 0.4  # the population prior is 0.5 at worst: below 0.4 is learned absence


@dataclass(frozen=True)
class Placed:
    """A job already on the technician's calendar: when, where, and how people call it."""

    start: datetime
    end: datetime
    lat: float
    lon: float
    label: str


@dataclass(frozen=True)
class Wanted:
    """The job being placed: its needs, place, customer's quiet hours and zone."""

    skill: str
    minutes: int
    lat: float
    lon: float
    customer_tz: str = "UTC"
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)


@dataclass(frozen=True)
class Verdict:
    """Refusals (any: nothing changes), warnings, and the travel to and from the neighbours."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    travel_before_min: int | None
    travel_after_min: int | None

    @property
    def ok(self) -> bool:
        """No refusal."""
        return not self.errors


def _hm(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def _day(d: date) -> str:
    return d.strftime("%a %d %b")


def working_day_problem(t: Technician, day: date) -> str | None:
    """Why the technician does not work on this local day, or None."""
    if day in t.days_off:
        return f"{t.name} has {_day(day)} off"
    if day.weekday() not in t.work_days:
        return f"{t.name} does not work on {day.strftime('%A')}s"
    return None


def hours_problem(t: Technician, start: datetime, end: datetime) -> str | None:
    """Why [start, end) falls outside the technician's working hours, or None."""
    zone = ZoneInfo(t.tz)
    s, e = start.astimezone(zone), end.astimezone(zone)
    day_problem = working_day_problem(t, s.date())
    if day_problem:
        return day_problem
    if s.time() < t.work_start or e.date() != s.date() or e.time() > t.work_end:
        return (f"{t.name} works {t.work_start:%H:%M}-{t.work_end:%H:%M} ({t.tz}); this job "
                f"would run {s:%H:%M}-{e:%H:%M}")
    return None


def in_quiet_hours(w: Wanted, start: datetime, end: datetime) -> bool:
    """Whether the visit touches the customer's quiet hours (their local time)."""
    zone = ZoneInfo(w.customer_tz)
    t = start.astimezone(zone)
    stop = end.astimezone(zone)
    while t < stop:
        clock = t.time()
        quiet = (w.quiet_start <= clock or clock < w.quiet_end) \
            if w.quiet_start > w.quiet_end else w.quiet_start <= clock < w.quiet_end
        if quiet:
            return True
        t += timedelta(minutes=15)
    return False


def _neighbours(calendar: Sequence[Placed], start: datetime, end: datetime
                ) -> tuple[Placed | None, Placed | None, Placed | None]:
    """(an overlapping job, the job before, the job after)."""
    clash = next((p for p in calendar if p.start < end and p.end > start), None)
    before = max((p for p in calendar if p.end <= start), key=lambda p: p.end, default=None)
    after = min((p for p in calendar if p.start >= end), key=lambda p: p.start, default=None)
    return clash, before, after


def _travel(t: Technician, w: Wanted, start: datetime, end: datetime, before: Placed | None,
            after: Placed | None, speed_kmh: float, tz: str
            ) -> tuple[list[str], int | None, int | None]:
    errors = []
    t_before = t_after = None
    if before is not None:
        need = travel_s(before.lat, before.lon, w.lat, w.lon, speed_kmh)
        t_before = -(-need // 60)
        if (start - before.end).total_seconds() < need:
            errors.append(f"{t.name} cannot get there in time: {t_before} min of travel from "
                          f"{before.label} (ends {_hm(before.end, tz)})")
    if after is not None:
        need = travel_s(w.lat, w.lon, after.lat, after.lon, speed_kmh)
        t_after = -(-need // 60)
        if (after.start - end).total_seconds() < need:
            errors.append(f"{t.name} cannot reach the next job in time: {t_after} min of "
                          f"travel to {after.label} (starts {_hm(after.start, tz)})")
    return errors, t_before, t_after


def check_move(t: Technician, w: Wanted, start: datetime, calendar: Sequence[Placed], *,
               now: datetime, tz: str, speed_kmh: float, p_home: float | None = None
               ) -> Verdict:
    """Check placing the job at `start` on `t`'s calendar (the job itself left out of it)."""
    end = start + timedelta(minutes=w.minutes)
    errors: list[str] = []
    if start < now:
        errors.append(f"That time is in the past (now {_hm(now, tz)} on "
                      f"{_day(now.astimezone(ZoneInfo(tz)).date())}): pick a later time")
    if w.skill and w.skill not in t.skills:
        errors.append(f"{t.name} does not have the skill {w.skill!r} this job needs")
    hours = hours_problem(t, start, end)
    if hours:
        errors.append(hours)
    clash, before, after = _neighbours(calendar, start, end)
    if clash is not None:
        errors.append(f"{t.name} is already booked then: {clash.label} "
                      f"({_hm(clash.start, tz)}-{_hm(clash.end, tz)}) overlaps")
        before = after = None
    travel_errors, t_before, t_after = _travel(t, w, start, end, before, after, speed_kmh, tz)
    errors += travel_errors
    warnings = []
    if in_quiet_hours(w, start, end):
        warnings.append(f"This is in the customer's quiet hours ({w.quiet_start:%H:%M}-"
                        f"{w.quiet_end:%H:%M} their time): it would start "
                        f"{_hm(start, w.customer_tz)} in {w.customer_tz}")
    if p_home is not None and p_home < LOW_P_HOME:
        warnings.append(f"The customer is probably out then: predicted P(home) "
                        f"{p_home * 100:.0f}%")
    return Verdict(tuple(errors), tuple(warnings), t_before, t_after)
