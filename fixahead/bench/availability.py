"""Offline harness: how often a visit booked by the availability model finds someone home.

Simulator households (minute presence truth, usage drawn only while someone is home and awake)
emit usage events as the platform would see them: every washer, dryer and dishwasher cycle
start and fridge door opening, and water-heater draws above 20 litres. At booking moments on
days 3..28 of the run the model learns from the usage before the moment, and the best
90-minute window on a 30-minute grid over the next 14 days inside technician hours
(Mon-Fri 08:00-17:00, Tue-Sat 11:00-20:00) is picked with the booking search's own weights
(3 * P(home over the window) - 0.05 per day of waiting, at least an hour ahead). A visit
counts as home when someone is truly home for all 90 minutes. Compared in the same run:
first free slot (the earliest window), the population prior alone, the previous model (a
copy kept below), the true past share per hour of week (what an unpooled weekly model would
learn with perfect sensing) and the true future hour by hour (the ceiling). Also reported:
the Brier score of each model's window P(home) over every candidate window.

    python -m fixahead.bench.availability [--households 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from dispatch.availability import AvailabilityConfig, population_prior, predict
from dispatch.booking import SearchConfig
from simulator.households import make_household, presence_minutes
from simulator.timebase import rng_for
from simulator.usage import usage_event_times

TZ = "UTC"  # the simulator keeps its households' days in UTC
FIRST_DAY = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp()) // 86400  # a Monday
BOOKING_DAYS = (3, 7, 10, 14, 17, 21, 24, 28)
HORIZON_DAYS = 14
SIM_DAYS = max(BOOKING_DAYS) + HORIZON_DAYS + 2
VISIT_MIN = 90
STEP_MIN = 30
# (weekdays, start hour, end hour): demo.py's early and late technicians
SHIFTS = ((frozenset({0, 1, 2, 3, 4}), 8, 17), (frozenset({1, 2, 3, 4, 5}), 11, 20))
SEARCH = SearchConfig()


@dataclass(frozen=True)
class SimHousehold:
    """Truth and observations of one household."""

    home: np.ndarray  # bool[SIM_DAYS, 1440] from FIRST_DAY
    usage_s: np.ndarray  # int64 sorted usage event times, epoch seconds


def sim_households(n: int, seed: int) -> list[SimHousehold]:
    """`n` simulator households with their presence truth and usage events."""
    out = []
    for i in range(n):
        rng = rng_for(seed, i)
        hh = make_household(rng, i, FIRST_DAY, SIM_DAYS)
        home = presence_minutes(hh, FIRST_DAY, SIM_DAYS, rng)
        out.append(SimHousehold(home, usage_event_times(hh, FIRST_DAY, SIM_DAYS, home, rng)))
    return out


def window_starts(now_s: int, config: SearchConfig = SEARCH) -> np.ndarray:
    """Feasible visit starts (epoch s): grid, technician hours, lead time, horizon."""
    step = STEP_MIN * 60
    first = -(-(now_s + config.lead_minutes * 60) // step) * step
    grid = np.arange(first, now_s + HORIZON_DAYS * 86400, step, dtype=np.int64)
    minute = (grid % 86400) // 60
    weekday = (grid // 86400 + 3) % 7  # 1970-01-01 was a Thursday
    ok = np.zeros(grid.size, dtype=bool)
    for days, h0, h1 in SHIFTS:
        ok |= (np.isin(weekday, list(days)) & (minute >= h0 * 60)
               & (minute + VISIT_MIN <= h1 * 60))
    return grid[ok]


def window_p(p_how: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """P(home) over each visit: the lowest hourly value it touches (as dispatch/booking.py)."""
    h0 = starts // 3600
    h1 = (starts + VISIT_MIN * 60 - 1) // 3600
    p = p_how[(h0 + 72) % 168]  # UTC hour of week, Monday 00:00 = 0
    for k in range(1, int((h1 - h0).max()) + 1):
        p = np.where(h0 + k <= h1, np.minimum(p, p_how[(h0 + k + 72) % 168]), p)
    return p


def pick(p: np.ndarray, starts: np.ndarray, now_s: int, config: SearchConfig = SEARCH) -> int:
    """Index of the start the booking search would choose from window P(home) `p`."""
    score = config.w_home * p - config.w_delay * (starts - now_s) / 86400.0
    return int(np.argmax(score))  # argmax takes the earliest of equal scores


def old_model(ts_s: np.ndarray, now_s: int, prior: np.ndarray) -> np.ndarray:
    """The model before exposure and pooling (commit d1d51de), kept here for comparison."""
    window, decay, k, full = 8, 0.5 ** (1 / 4.0), 1.0, 10.0
    ts = ts_s[(ts_s <= now_s) & (ts_s > now_s - window * 7 * 86400)]
    if ts.size == 0:
        return prior.copy()
    n_weeks = int(min(window, (now_s - int(ts.min())) // (7 * 86400) + 1))
    age = (now_s - ts) // (7 * 86400)
    how = (ts // 3600 + 72) % 168
    active = np.zeros((n_weeks, 168), dtype=bool)
    active[age, how] = True
    counts = np.bincount(age, minlength=n_weeks)[:n_weeks]
    weight = decay ** np.arange(n_weeks) * np.minimum(1.0, counts / full)
    return (prior * k + weight @ active) / (k + weight.sum())


def past_weekly_share(home: np.ndarray, now_s: int) -> np.ndarray:
    """The true share of each hour of week at home before `now`: the best a weekly model knows."""
    lived = now_s // 3600 - FIRST_DAY * 24
    hours = home.reshape(-1, 60).mean(axis=1)[:lived]
    how = (FIRST_DAY * 24 + np.arange(lived) + 72) % 168
    seen = np.bincount(how, minlength=168)
    share = np.bincount(how, weights=hours, minlength=168) / np.maximum(seen, 1)
    return np.where(seen > 0, share, population_prior())


def run(n: int, seed: int, config: AvailabilityConfig | None = None) -> dict:
    """Home rates per model and booking day group, Brier scores, time per prediction."""
    config = config or AvailabilityConfig()
    t0 = time.perf_counter()
    households = sim_households(n, seed)
    sim_s = time.perf_counter() - t0
    prior = population_prior()
    since = datetime.fromtimestamp(FIRST_DAY * 86400, UTC)
    hits: dict[str, dict[str, list[bool]]] = {}
    brier: dict[str, list[float]] = {}
    chosen_p: dict[str, list[float]] = {}
    predict_s = 0.0
    rng = np.random.default_rng(seed)
    for hh in households:
        minutes = np.concatenate([[0], np.cumsum(hh.home.ravel(), dtype=np.int64)])
        for day in BOOKING_DAYS:
            now_s = (FIRST_DAY + day) * 86400 + int(rng.integers(0, 86400))
            now = datetime.fromtimestamp(now_s, UTC)
            seen = hh.usage_s[hh.usage_s <= now_s]
            starts = window_starts(now_s)
            first = starts // 60 - FIRST_DAY * 1440
            truth = minutes[first + VISIT_MIN] - minutes[first] == VISIT_MIN
            t1 = time.perf_counter()
            new = predict(seen, tz=TZ, now=now, consent=True, prior=prior, config=config,
                          observed_since=since).p_home
            predict_s += time.perf_counter() - t1
            hourly = {
                "new": new,
                "new_no_since": predict(seen, tz=TZ, now=now, consent=True, prior=prior,
                                        config=config).p_home,
                "old": old_model(seen, now_s, prior),
                "prior": prior,
                "past_weekly_truth": past_weekly_share(hh.home, now_s),
            }
            share = hh.home.reshape(-1, 60).mean(axis=1)
            h0 = starts // 3600 - FIRST_DAY * 24
            future = np.minimum(share[h0], share[(starts + VISIT_MIN * 60 - 1) // 3600
                                                 - FIRST_DAY * 24])
            chosen = {"first_free": 0, "future_hourly_truth": int(np.argmax(future))}
            for m, p_how in hourly.items():
                p = window_p(p_how, starts)
                chosen[m] = pick(p, starts, now_s)
                brier.setdefault(m, []).append(float(np.mean((p - truth) ** 2)))
                chosen_p.setdefault(m, []).append(float(p[chosen[m]]))
            group = "day 3" if day < 7 else ("days 7-13" if day < 14 else "days 14-28")
            for m, i in chosen.items():
                for g in (group, "all"):
                    hits.setdefault(g, {}).setdefault(m, []).append(bool(truth[i]))
    rates = {g: {m: round(float(np.mean(v)), 4) for m, v in by.items()} for g, by in hits.items()}
    bookings = len(hits["all"]["new"])
    return {"bench": "availability", "households": n, "seed": seed, "bookings": bookings,
            "home_rate": rates,
            "brier_all_windows": {m: round(float(np.mean(v)), 4) for m, v in brier.items()},
            "mean_p_of_chosen": {m: round(float(np.mean(v)), 4) for m, v in chosen_p.items()},
            "predict_ms": round(1000 * predict_s / bookings, 3), "simulate_s": round(sim_s, 1)}


def main(argv: list[str] | None = None) -> None:
    """Print the home rates as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.households, args.seed), indent=2))


if __name__ == "__main__":
    main()
