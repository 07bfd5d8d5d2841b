"""Households, the people in them and when they are truly home. Pure and deterministic.

A person follows a schedule (office hours, rotating shifts, school, or at home), with remote
days, errands, weekend outings, public holidays and the household's occasional vacation; all
jitter comes from a numpy Generator, so a seed gives the same lives every time.
Presence is computed per minute of a day and kept per 15-minute slot as minutes at home.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.timebase import MINUTES_PER_DAY, SLOT_MIN, SLOTS_PER_DAY, month_day, weekday

ROLES = ("office", "shift", "student", "home")
ROLE_P = (0.5, 0.12, 0.18, 0.2)
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


@dataclass(frozen=True)
class Household:
    """A household: its people and the days (epoch, inclusive-exclusive) of its vacation."""

    id: str
    index: int
    people: tuple[Person, ...]
    vacation: tuple[int, int] | None = None

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
    if role == "student":
        leave, back = rng.normal(455, 15), rng.normal(930, 45)
    elif role == "office":
        leave, back = rng.normal(460, 30), rng.normal(1050, 50)
    else:
        leave, back = 0, 0
    return Person(
        role=role,
        leave_min=int(leave),
        return_min=int(back),
        wake_min=int(rng.normal(400, 25)),
        sleep_min=int(rng.normal(1370, 30)),
        remote_p=float(rng.choice([0.0, 0.1, 0.4], p=[0.5, 0.3, 0.2])) if role == "office" else 0,
        shift_phase=int(rng.integers(0, 3)),
    )


def make_household(rng: np.random.Generator, index: int, first_day: int, n_days: int) -> Household:
    """Draw a household of 1-4 people; about one in three years' weeks away on vacation."""
    size = int(rng.choice([1, 2, 3, 4], p=[0.3, 0.35, 0.2, 0.15]))
    people = [make_person(rng, str(rng.choice(ROLES, p=ROLE_P))) for _ in range(min(size, 2))]
    people += [make_person(rng, "student") for _ in range(size - len(people))]
    vacation = None
    if rng.random() < min(0.9, n_days / 120):
        length = int(rng.integers(3, 15))
        start = first_day + int(rng.integers(0, max(1, n_days - 2)))
        vacation = (start, start + length)
    return Household(f"hh-{index:06d}", index, tuple(people), vacation)


def _away(person: Person, day: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Intervals (minutes from this day's midnight, end may pass 1440) the person is out."""
    wd = weekday(day)
    workday = wd < 5 and month_day(day) not in HOLIDAYS
    out: list[tuple[int, int]] = []
    if person.role == "shift" and wd < 5:
        start, end = SHIFTS[(day // 7 + person.shift_phase) % 3]
        out.append((start - 30 + int(rng.integers(-10, 10)), end + 30 + int(rng.integers(-10, 20))))
    elif person.role in ("office", "student") and workday and rng.random() >= person.remote_p:
        jitter = rng.normal(0, 12, 2)
        out.append((person.leave_min + int(jitter[0]), person.return_min + int(jitter[1] * 2)))
    errand_p = 0.55 if person.role == "home" else (0.6 if wd >= 5 else 0.2)
    if rng.random() < errand_p:
        start = int(rng.uniform(540, 1140))
        out.append((start, start + int(rng.uniform(45, 240))))
    if wd >= 5 and rng.random() < 0.3:
        start = int(rng.uniform(600, 840))
        out.append((start, start + int(rng.uniform(240, 480))))
    return out


def person_home_minutes(person: Person, day: int, rng: np.random.Generator,
                        carry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(home, carry) minute arrays for `day`; `carry` holds absences spilling from yesterday."""
    away = np.zeros(2 * MINUTES_PER_DAY, dtype=bool)
    away[:MINUTES_PER_DAY] = carry
    for start, end in _away(person, day, rng):
        away[max(0, start) : max(0, end)] = True
    return ~away[:MINUTES_PER_DAY], away[MINUTES_PER_DAY:]


def presence_minutes(household: Household, first_day: int, n_days: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Minute-resolution truth, shape (n_days, 1440): True while at least one person is home."""
    home = np.zeros((n_days, MINUTES_PER_DAY), dtype=bool)
    carries = [np.zeros(MINUTES_PER_DAY, dtype=bool) for _ in household.people]
    vac = household.vacation
    for i in range(n_days):
        day = first_day + i
        for p, person in enumerate(household.people):
            mine, carries[p] = person_home_minutes(person, day, rng, carries[p])
            home[i] |= mine
        if vac is not None and vac[0] <= day < vac[1]:
            home[i] = False
    return home


def slot_minutes(home: np.ndarray) -> np.ndarray:
    """Minutes at home per 15-minute slot, uint8 in 0..15, flattened over days."""
    per_slot = home.reshape(home.shape[0], SLOTS_PER_DAY, SLOT_MIN).sum(axis=2, dtype=np.uint8)
    return np.asarray(per_slot.ravel())
