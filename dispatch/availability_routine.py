"""Which routine a household's usage looks like: P(kind | event times), never told the kind.

A household's whole history is summarised in a few numbers (`summary`): on weekdays and at
weekends, how often each 2-hour block 06:00-22:00 holds an event; what share of the weekday's
events fall 09:00-17:00; events a day; the usual first and last event hours and how much the
first moves; how often a weekday holds a long quiet stretch across midday (a departure and a
return); how many days are empty; how much history there is. A multinomial logistic
regression (`availability_routine_coef`, fitted by `fixahead.lab.bench.availability_routine_fit`
on simulated households of the fit seeds with the simulator's kind as the label) turns them
into P(kind) over `KINDS`. The pick (`availability_pick`) reads it: how much a move away from
the first free window has gained for households like this one.
"""

from __future__ import annotations

import numpy as np

from dispatch.availability_evidence import local_hour
from dispatch.availability_features import DayGrid

KINDS = ("one_person", "couple", "family", "shift", "retiree", "student")
BLOCKS = tuple(range(6, 22, 2))  # 2-hour blocks 06-08 ... 20-22
HOURS = tuple(range(6, 23))  # hours of day read one by one, 06:00-23:00
SHRINK_DAYS = 2.0  # pseudo-days of all-day evidence behind a day type's own block rates
SUMMARY_NAMES = (
    *(f"weekday_{h:02d}" for h in BLOCKS), *(f"weekend_{h:02d}" for h in BLOCKS),
    "activity", "daytime_share", "first_hour", "last_hour", "first_spread", "midday_quiet",
    "longest_quiet", "empty_days", "days_log",
    *(f"weekday_count_{h:02d}" for h in HOURS), *(f"weekend_count_{h:02d}" for h in HOURS),
    *(f"weekday_days_{h:02d}" for h in HOURS),
    "day_share", "morning_share", "evening_share", "activity_all", "weekend_lift", "days_all",
)
HOMEBODY = KINDS.index("retiree")  # the routine of being home all day


def _median(v: np.ndarray, default: float) -> float:
    """Median of the non-missing values, else `default`."""
    v = v[~np.isnan(v)]
    return float(np.median(v)) if v.size else default


def _longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True in a 1-d boolean array."""
    edges = np.flatnonzero(np.diff(np.r_[0, flags.astype(np.int8), 0]))
    return int((edges[1::2] - edges[::2]).max(initial=0))


def _grid_summary(grid: DayGrid) -> np.ndarray:
    """Block rates, activity, first and last hours, quiet stretches, from the day grid."""
    full = grid.lived.all(axis=1)  # whole days only: a part day says little about its blocks
    ev = grid.readings["event"][full] > 0
    weekend = grid.weekday[full] >= 5
    blocks = np.stack([ev[:, h:h + 2].any(axis=1) for h in BLOCKS], axis=1).astype(float)
    n = blocks.shape[0]
    base = blocks.mean(axis=0) if n else np.zeros(len(BLOCKS))
    rates = []
    for mask in (~weekend, weekend):
        rates.append((blocks[mask].sum(axis=0) + SHRINK_DAYS * base)
                     / (mask.sum() + SHRINK_DAYS))
    wd = ev[~weekend]
    wd_events = float(wd[:, 6:22].sum())
    daytime = float(wd[:, 9:17].sum()) / wd_events if wd_events else 0.5
    first, last = grid.first[full][~weekend], grid.last[full][~weekend]
    first_ok = first[~np.isnan(first)]
    spread = float(np.std(first_ok)) if first_ok.size > 1 else 0.0
    quiet = grid.readings["long_quiet"][full][~weekend] > 0
    midday_quiet = float(quiet[:, 11:15].all(axis=1).mean()) if quiet.shape[0] else 0.0
    longest = 0.0
    if quiet.shape[0]:
        longest = float(np.mean([_longest_run(q) for q in quiet])) / 12.0
    empty = float((~ev.any(axis=1)).mean()) if n else 1.0
    days = float(grid.lived.sum()) / 24.0
    return np.concatenate([
        rates[0], rates[1],
        [np.log1p(grid.events_per_day), daytime, _median(first, 7.0) / 24.0,
         _median(last, 21.0) / 24.0, min(spread, 6.0) / 6.0, midday_quiet, longest, empty,
         np.log1p(days)],
    ])


def _hour_summary(ts_s: np.ndarray, *, tz: str, start_s: int, now_s: int) -> np.ndarray:
    """Per hour of day 06:00-23:00: events a day on weekdays and at weekends (log), the share
    of weekdays with an event in it; the weekday's share of events by day, morning and
    evening; events a day; weekend over weekday activity; days (log). Whole local days only."""
    edge = local_hour(np.array([start_s, now_s], dtype=np.int64), tz)
    d0, d1 = -(-int(edge[0]) // 24), int(edge[1]) // 24
    n_days = max(d1 - d0, 1)
    lh = local_hour(np.asarray(ts_s, dtype=np.int64), tz)
    lh = lh[(lh >= d0 * 24) & (lh < d1 * 24)]
    day, hod = lh // 24, lh % 24
    weekday = (day + 3) % 7 < 5  # epoch day 0 was a Thursday
    all_days = np.arange(d0, d1)
    n_weekdays = max(int(((all_days + 3) % 7 < 5).sum()), 1)
    n_weekend = max(n_days - n_weekdays, 1)
    counts = np.zeros((2, 24))
    np.add.at(counts, (np.where(weekday, 0, 1), hod), 1.0)
    counts /= np.array([[n_weekdays], [n_weekend]])
    seen = np.zeros(24)
    np.add.at(seen, np.unique(lh[weekday]) % 24, 1.0)
    seen /= n_weekdays
    hours = list(HOURS)
    per_day = counts[0, 6:23]
    total = per_day.sum() + 1e-3
    return np.concatenate([
        np.log1p(7.0 * counts[0, hours]), np.log1p(7.0 * counts[1, hours]), seen[hours],
        [per_day[3:11].sum() / total, per_day[:3].sum() / total, per_day[11:].sum() / total,
         np.log1p(lh.size / n_days), np.log1p(counts[1].sum()) - np.log1p(counts[0].sum()),
         np.log1p(n_days)],
    ])


def summary(grid: DayGrid, ts_s: np.ndarray, *, tz: str, start_s: int,
            now_s: int) -> np.ndarray:
    """float[len(SUMMARY_NAMES)]: the household-level readings of a usage history (`grid` is
    `availability_features.day_grid` of the same events, from `start_s` to `now_s`)."""
    return np.concatenate([_grid_summary(grid),
                           _hour_summary(ts_s, tz=tz, start_s=start_s, now_s=now_s)])


def kind_posterior(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """float[len(KINDS)]: P(kind) from summaries `x` (float[n] or float[m, n]) and coefficients
    `coef` (float[n + 1, len(KINDS)], bias last) of the multinomial logistic regression."""
    x = np.asarray(x, dtype=np.float64)
    z = np.hstack([np.atleast_2d(x), np.ones((np.atleast_2d(x).shape[0], 1))]) @ coef
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return p[0] if x.ndim == 1 else p
