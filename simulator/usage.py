"""When appliances are used: sessions drawn only at minutes when someone is home and awake.

A session is a wash, a dry, a dishwasher run, a fridge door opening or a hot-water draw; its
start is always a minute of true presence, so usage carries information about presence. Rates
follow published figures (docs/simulator.md): a washer about 2 (one person) to 5 (four people)
times a week, a dishwasher 2.5 to 5.5, the fridge opened about 6 times a day per person in a
few kitchen visits around meals, so a one-person home logs a handful of events a day and many
hours at home log none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.households import Household
from simulator.timebase import DAY_MS, MINUTE_MS, MINUTES_PER_DAY

# state events that a person causes; they are only ever emitted while someone is home
USAGE_STATES = frozenset({"cycle_started", "door_opened", "hot_water_draw"})
MEALS = ((420, 510), (720, 800), (1080, 1230))
FRIDGE_OPENINGS_PER_PERSON = 6.0  # a day; 15-20 for a typical household (docs/simulator.md)
OPENINGS_PER_VISIT = 2.0  # door openings per kitchen visit (mean)
DRAW_EVENT_LITRES = 20.0  # a water heater reports a hot-water draw above this


@dataclass(frozen=True)
class Sessions:
    """Sessions of one device, sorted by start: epoch ms, duration in s, amount (kg, litres)."""

    start_ms: np.ndarray
    duration_s: np.ndarray
    amount: np.ndarray

    def __len__(self) -> int:
        return len(self.start_ms)

    def between(self, t0: int, t1: int) -> Sessions:
        """The sessions that start in [t0, t1)."""
        lo, hi = np.searchsorted(self.start_ms, [t0, t1])
        return Sessions(self.start_ms[lo:hi], self.duration_s[lo:hi], self.amount[lo:hi])


def empty() -> Sessions:
    """No sessions."""
    return Sessions(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))


def _awake(hh: Household, home: np.ndarray, lead: int = 0, late: int = 0) -> np.ndarray:
    mask = home.copy()
    mask[: hh.wake_min + late] = False
    mask[max(hh.wake_min, hh.sleep_min - lead) :] = False
    return mask


def _sleep_in(day: int, rng: np.random.Generator) -> int:
    """Minutes the household gets up after its usual time: later on weekends, and by up to an
    hour or so on any day."""
    return int(max(0.0, rng.normal(60 if (day + 3) % 7 >= 5 else 0, 30)))


def _pick(mask: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    idx = np.flatnonzero(mask)
    if k <= 0 or len(idx) == 0:
        return np.zeros(0, np.int64)
    return np.sort(rng.choice(idx, size=min(k, len(idx)), replace=False))


def _sessions(day: int, minutes: np.ndarray, duration: np.ndarray, amount: np.ndarray,
              rng: np.random.Generator) -> Sessions:
    start = day * DAY_MS + minutes.astype(np.int64) * MINUTE_MS + rng.integers(0, 60_000,
                                                                                len(minutes))
    return Sessions(start, duration.astype(float), amount.astype(float))


def day_sessions(kind: str, hh: Household, day: int, home: np.ndarray,
                 rng: np.random.Generator, washes: Sessions | None = None) -> Sessions:
    """Sessions of a `kind` appliance on `day`, given that day's minute presence `home`."""
    n = len(hh.people)
    late = _sleep_in(day, rng)
    if kind == "washer":
        k = rng.poisson((1.0 + 0.9 * n) / 7)
        mins = _pick(_awake(hh, home, 120, late), k, rng)
        return _sessions(day, mins, rng.uniform(70, 130, len(mins)) * 60,
                         rng.uniform(2.0, 7.5, len(mins)), rng)
    if kind == "dryer":
        if washes is None or not len(washes):
            return empty()
        ends = (washes.start_ms + washes.duration_s * 1000).astype(np.int64)
        mins = ((ends - day * DAY_MS) // MINUTE_MS + rng.integers(0, 30, len(ends)))
        ok = (mins < MINUTES_PER_DAY) & (rng.random(len(ends)) < 0.55)
        mins, amounts = mins[ok], washes.amount[ok]
        keep = home[mins]
        mins, amounts = mins[keep], amounts[keep]
        return _sessions(day, mins, rng.uniform(60, 120, len(mins)) * 60, amounts, rng)
    if kind == "dishwasher":
        k = rng.poisson((1.5 + 1.0 * n) / 7)
        evening = _awake(hh, home, 10, late)
        evening[:1110] = False
        mins = _pick(evening if evening.any() else _awake(hh, home, 10, late), k, rng)
        return _sessions(day, mins, rng.uniform(110, 190, len(mins)) * 60,
                         rng.uniform(0.5, 1.0, len(mins)), rng)
    if kind == "fridge":
        awake = _awake(hh, home, 0, late)
        weight = np.where(awake, 1.0, 0.0)
        for a, b in MEALS:
            weight[a:b] *= 6
        visits = rng.poisson(FRIDGE_OPENINGS_PER_PERSON * n / OPENINGS_PER_VISIT
                             * _appetite(hh))
        if visits == 0 or weight.sum() == 0:
            return empty()
        at = rng.choice(MINUTES_PER_DAY, size=visits, p=weight / weight.sum())
        extra = rng.poisson(OPENINGS_PER_VISIT - 1, visits)
        near = [a + rng.integers(0, 8, e) for a, e in zip(at, extra, strict=True) if e]
        mins = np.sort(np.concatenate([at, *near]))
        mins = mins[(mins < MINUTES_PER_DAY)]
        mins = mins[home[mins]]
        return _sessions(day, mins, np.clip(rng.lognormal(2.7, 0.6, len(mins)), 3, 120),
                         np.zeros(len(mins)), rng)
    if kind == "waterheater":
        awake = _awake(hh, home, 0, late)
        showers = []
        for person in hh.people:
            if rng.random() < 0.75:
                showers.append(person.wake_min + late + int(rng.integers(0, 40)))
            if rng.random() < 0.2:
                showers.append(person.sleep_min - int(rng.integers(30, 120)))
        shower = np.array([m for m in showers if 0 <= m < MINUTES_PER_DAY and home[m]], np.int64)
        kitchen = np.flatnonzero(awake & (rng.random(MINUTES_PER_DAY) < 0.004 * n))
        mins = np.concatenate([shower, kitchen])
        litres = np.concatenate([rng.uniform(35, 70, len(shower)),
                                 rng.uniform(2, 10, len(kitchen))])
        order = np.argsort(mins, kind="stable")
        return _sessions(day, mins[order], litres[order] * 6, litres[order], rng)
    return empty()


def _appetite(hh: Household) -> float:
    """A household's own fridge habit: a fixed factor (mean ~1) from its id."""
    return float(np.random.default_rng([hh.index, 77]).lognormal(-0.125, 0.5))


def concat(parts: list[Sessions]) -> Sessions:
    """Join day sessions in order."""
    if not parts:
        return empty()
    return Sessions(np.concatenate([p.start_ms for p in parts]),
                    np.concatenate([p.duration_s for p in parts]),
                    np.concatenate([p.amount for p in parts]))


def usage_event_times(hh: Household, first_day: int, n_days: int, home: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """Epoch seconds, sorted, of the usage events a household's appliances report over
    `n_days` from `first_day` (cycles started, fridge doors opened, hot-water draws above
    `DRAW_EVENT_LITRES`), given its minute presence `home` (bool[days, 1440])."""
    starts = []
    for d in range(n_days):
        day = first_day + d
        washes = day_sessions("washer", hh, day, home[d], rng)
        starts += [washes.start_ms, day_sessions("dryer", hh, day, home[d], rng, washes).start_ms]
        starts += [day_sessions(k, hh, day, home[d], rng).start_ms
                   for k in ("dishwasher", "fridge")]
        water = day_sessions("waterheater", hh, day, home[d], rng)
        starts.append(water.start_ms[water.amount > DRAW_EVENT_LITRES])
    return np.sort(np.concatenate(starts)) // 1000 if starts else np.zeros(0, np.int64)


# a smart home's ambient sensors (doors, cupboards, motion, bed, toilet), for the availability
# model's dense logs (docs/dispatch.md): activity episodes while someone is home and awake,
# each a burst of activations within ten minutes, and a few at night (a toilet trip)
AMBIENT_EPISODES_PER_HOUR = 1.0  # median over homes (lognormal, sigma 0.5)
AMBIENT_BURST = 3.0  # mean extra activations per episode, median over homes
AMBIENT_NIGHT_TRIPS = 0.5  # a night, while home and asleep


def ambient_times(hh: Household, day: int, home: np.ndarray, rng: np.random.Generator,
                  episodes_per_hour: float, burst: float) -> np.ndarray:
    """Epoch seconds of one day's ambient sensor activations, only at minutes someone is home:
    `episodes_per_hour` activity episodes per waking hour at home, each 1 + Poisson(`burst`)
    activations spread over ten minutes, and Poisson(AMBIENT_NIGHT_TRIPS) night trips of one to
    three activations while home and asleep."""
    late = _sleep_in(day, rng)
    awake = _awake(hh, home, 0, late)
    episodes = _pick(awake, int(rng.poisson(episodes_per_hour * awake.sum() / 60.0)), rng)
    asleep = home & ~_awake(hh, np.ones_like(home), 0, late)
    trips = _pick(asleep, int(rng.poisson(AMBIENT_NIGHT_TRIPS)), rng)
    sizes = np.concatenate([1 + rng.poisson(burst, episodes.size),
                            rng.integers(1, 4, trips.size)])
    starts_s = np.repeat(np.concatenate([episodes, trips]) * 60, sizes)
    at = starts_s + rng.integers(0, 600, starts_s.size)
    at = at[at < 86400]
    at = at[home[at // 60]]
    return np.sort(day * 86400 + at).astype(np.int64)
