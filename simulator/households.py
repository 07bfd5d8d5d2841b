"""Households, the people in them and when they are truly home. Pure and deterministic.

A household is one of six kinds (one person, couple, family, shift worker, retirees, students),
drawn in the shares of `KIND_P`. A person follows a routine (office hours, rotating shifts,
school or lectures, retired or at home) that moves from day to day: departures jitter and
sometimes jump by an hour or two, there are remote days, days off, evenings out, errands,
weekend outings and trips, public holidays and the household's occasional vacation; all
jitter comes from a numpy Generator, so a seed gives the same lives every time. Presence is
computed per minute of a day and kept per 15-minute slot as minutes at home.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.timebase import MINUTES_PER_DAY, SLOT_MIN, SLOTS_PER_DAY, month_day, weekday

ROLES = ("office", "shift", "student", "school", "retired", "home")
KINDS = ("one_person", "couple", "family", "shift", "retiree", "student")
KIND_P = (0.24, 0.20, 0.22, 0.08, 0.18, 0.08)  # see docs/simulator.md (an assumption)
# fixed-date public holidays (month, day): New Year, Labour Day, Christmas
HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 3), (12, 24), (12, 25), (12, 26), (12, 31)})
SHIFTS = ((330, 870), (810, 1350), (1290, 1830))  # early, late, night (minutes, may pass 24h)


@dataclass(frozen=True)
class Person:
    """One member of a household and the parameters of their routine (minutes of the day)."""

    role: str
    leave_min: int
    return_min: int
    wake_min: int
    sleep_min: int
    remote_p: float
    shift_phase: int
    leave_sd: float = 12.0  # day-to-day jitter of departure (minutes)
    jump_p: float = 0.0  # a day starting or ending an hour or two off the usual
    day_off_p: float = 0.0  # sick days, leave days
    evening_out_p: float = 0.0  # out for the evening after coming home
    weekend_work_p: float = 0.0  # out for part of a weekend day for work
    work_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    timetable: tuple[int, ...] = ()  # per-weekday start offsets (students' lectures)


@dataclass(frozen=True)
class Household:
    """A household: its people, the days (epoch, inclusive-exclusive) of its vacation, its kind."""

    id: str
    index: int
    people: tuple[Person, ...]
    vacation: tuple[int, int] | None = None
    kind: str = "mixed"
    joint_out_p: float = 0.0  # everyone out together on a weekend day or evening
    trip_p: float = 0.0  # a weekend away (per weekend)

    @property
    def wake_min(self) -> int:
        """When the first person gets up."""
        return min(p.wake_min for p in self.people)

    @property
    def sleep_min(self) -> int:
        """When the last person goes to bed."""
        return max(p.sleep_min for p in self.people)


def make_person(rng: np.random.Generator, role: str) -> Person:
    """Draw a person's routine for `role`."""
    work_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    timetable: tuple[int, ...] = ()
    if role == "student":
        leave, back = rng.normal(510, 40), rng.normal(990, 60)
        timetable = tuple(int(x) for x in rng.choice([-60, 0, 120, 240], size=5))
    elif role == "school":
        leave, back = rng.normal(450, 10), rng.normal(900, 60)
    elif role == "office":
        leave, back = rng.normal(455, 35), rng.normal(1050, 50)
        if rng.random() < 0.25:  # part time: three or four fixed days, or mornings only
            if rng.random() < 0.5:
                work_days = tuple(sorted(rng.choice(5, size=int(rng.integers(3, 5)),
                                                    replace=False).tolist()))
            else:
                back = rng.normal(810, 30)
    else:
        leave, back = 0, 0
    young = role in ("student", "office")
    return Person(
        role=role, leave_min=int(leave), return_min=int(back),
        wake_min=int(rng.normal(400 if role != "retired" else 430, 25)),
        sleep_min=int(rng.normal(1370 if role != "student" else 1440, 30)),
        remote_p=float(rng.choice([0.0, 0.1, 0.2, 0.4], p=[0.45, 0.25, 0.15, 0.15]))
        if role == "office" else 0.0,
        shift_phase=int(rng.integers(0, 3)),
        leave_sd=float(rng.uniform(10, 40)), jump_p=float(rng.uniform(0.05, 0.2)),
        day_off_p=0.04 if role in ("office", "shift") else (0.1 if role == "student" else 0.0),
        evening_out_p=float(rng.uniform(0.15, 0.45)) if young else float(rng.uniform(0.03, 0.15)),
        weekend_work_p=0.12 if role == "office" else (0.3 if role == "shift" else 0.0),
        work_days=work_days, timetable=timetable)


def _roles(rng: np.random.Generator, kind: str) -> list[str]:
    if kind == "one_person":
        return ["office"]
    if kind == "couple":
        return ["office", str(rng.choice(["office", "home", "retired"], p=[0.7, 0.2, 0.1]))]
    if kind == "family":
        kids = int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15]))
        other = str(rng.choice(["office", "home"], p=[0.7, 0.3]))
        return ["office", other] + ["school"] * kids
    if kind == "shift":
        return ["shift"] + ([str(rng.choice(["office", "home"]))] if rng.random() < 0.5 else [])
    if kind == "retiree":
        return ["retired"] * int(rng.choice([1, 2], p=[0.45, 0.55]))
    return ["student"] * int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))


def make_household(rng: np.random.Generator, index: int, first_day: int, n_days: int,
                   kind: str | None = None) -> Household:
    """Draw a household (of `kind`, else of a kind drawn by `KIND_P`); maybe a vacation."""
    kind = kind or str(rng.choice(KINDS, p=KIND_P))
    people = tuple(make_person(rng, role) for role in _roles(rng, kind))
    vacation = None
    if rng.random() < min(0.9, n_days / 120):
        length = int(rng.integers(3, 15))
        start = first_day + int(rng.integers(0, max(1, n_days - 2)))
        vacation = (start, start + length)
    joint = {"couple": 0.25, "family": 0.3, "retiree": 0.2}.get(kind, 0.0)
    trip = {"student": 0.15, "one_person": 0.1, "couple": 0.08}.get(kind, 0.04)
    return Household(f"hh-{index:06d}", index, people, vacation, kind, joint, trip)


def _work(person: Person, day: int, wd: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """The day's absence for work, school or lectures."""
    if person.role == "shift":
        if wd < 5 or rng.random() < person.weekend_work_p:
            start, end = SHIFTS[(day // 7 + person.shift_phase) % 3]
            return [(start - 30 + int(rng.integers(-15, 15)),
                     end + 30 + int(rng.integers(-10, 40)))]
        return []
    if person.role not in ("office", "student", "school"):
        return []
    if wd >= 5 or month_day(day) in HOLIDAYS:
        if person.role == "office" and rng.random() < person.weekend_work_p:
            start = int(rng.uniform(480, 840))
            return [(start, start + int(rng.uniform(120, 300)))]
        return []
    if wd not in person.work_days or rng.random() < person.remote_p \
            or rng.random() < person.day_off_p:
        return []
    leave = person.leave_min + rng.normal(0, person.leave_sd)
    back = person.return_min + rng.normal(0, person.leave_sd * 1.5)
    if person.timetable:
        leave += person.timetable[wd]
        back += person.timetable[wd] // 2
    if rng.random() < person.jump_p:  # an early meeting or a late start
        leave += float(rng.choice([-90, -60, 60, 120]))
    if rng.random() < person.jump_p:  # overtime, sport, shopping on the way home
        back += float(rng.uniform(45, 150))
    return [(int(leave), int(max(back, leave + 120)))]


def _away(person: Person, day: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Intervals (minutes from this day's midnight, end may pass 1440) the person is out."""
    wd = weekday(day)
    out = _work(person, day, wd, rng)
    errand_p = 0.6 if person.role in ("home", "retired") else (0.55 if wd >= 5 else 0.15)
    if rng.random() < errand_p:
        start = int(rng.uniform(540, 1110))
        out.append((start, start + int(rng.uniform(45, 180))))
    if person.role == "retired" and rng.random() < 0.35:  # afternoon club, visits, walks
        start = int(rng.uniform(840, 1020))
        out.append((start, start + int(rng.uniform(90, 240))))
    if wd >= 5 and rng.random() < 0.35:
        start = int(rng.uniform(600, 900))
        out.append((start, start + int(rng.uniform(180, 420))))
    evening_p = person.evening_out_p * (1.5 if wd in (4, 5) else 1.0)
    if rng.random() < evening_p:
        start = int(rng.uniform(1080, 1230))
        out.append((start, start + int(rng.uniform(120, 270))))
    return out


def person_home_minutes(person: Person, day: int, rng: np.random.Generator,
                        carry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(home, carry) minute arrays for `day`; `carry` holds absences spilling from yesterday."""
    away = np.zeros(2 * MINUTES_PER_DAY, dtype=bool)
    away[:MINUTES_PER_DAY] = carry
    for start, end in _away(person, day, rng):
        away[max(0, start) : max(0, end)] = True
    return ~away[:MINUTES_PER_DAY], away[MINUTES_PER_DAY:]


def _joint_away(household: Household, day: int, rng: np.random.Generator) -> tuple[int, int]:
    """A household outing everyone goes on (minutes of the day), or (0, 0)."""
    wd = weekday(day)
    if household.joint_out_p and rng.random() < household.joint_out_p * (1.0 if wd >= 4 else 0.3):
        if wd >= 5 and rng.random() < 0.6:
            start = int(rng.uniform(570, 900))
            return start, start + int(rng.uniform(180, 420))
        start = int(rng.uniform(1080, 1200))
        return start, start + int(rng.uniform(120, 240))
    return 0, 0


def presence_minutes(household: Household, first_day: int, n_days: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Minute-resolution truth, shape (n_days, 1440): True while at least one person is home."""
    home = np.zeros((n_days, MINUTES_PER_DAY), dtype=bool)
    carries = [np.zeros(MINUTES_PER_DAY, dtype=bool) for _ in household.people]
    vac = household.vacation
    trip_until = -1
    for i in range(n_days):
        day = first_day + i
        for p, person in enumerate(household.people):
            mine, carries[p] = person_home_minutes(person, day, rng, carries[p])
            home[i] |= mine
        start, end = _joint_away(household, day, rng)
        home[i, start:end] = False
        if household.trip_p and weekday(day) == 5 and rng.random() < household.trip_p:
            trip_until = day + 2  # Saturday morning to Sunday evening
            home[i, int(rng.uniform(480, 720)):] = False
        elif day < trip_until:
            home[i, : int(rng.uniform(1020, 1260))] = False
        if vac is not None and vac[0] <= day < vac[1]:
            home[i] = False
    return home


def slot_minutes(home: np.ndarray) -> np.ndarray:
    """Minutes at home per 15-minute slot, uint8 in 0..15, flattened over days."""
    per_slot = home.reshape(home.shape[0], SLOTS_PER_DAY, SLOT_MIN).sum(axis=2, dtype=np.uint8)
    return np.asarray(per_slot.ravel())
