"""What a household's usage history says about each hour of the week, as a few numbers.

Usage events are sparse, so an hour is read in its neighbourhood and on the days like it:
for every lived day and hour of day, was there an event in the hour or the hours around it,
was it before the day's first event (asleep or getting up: home) or after its last one, was it
inside a long quiet stretch between two events of the same day (a departure and a return), and
were there events shortly before and after it (probably home in between). Each is averaged
over the past days of the same day type (weekday, Saturday, Sunday), shrunk toward all days in
proportion to how few such days there are, over the same weekday, and over the last two days.
Nothing here knows what kind of household it is: only event times.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from dispatch.availability_evidence import local_hour

HOURS_PER_WEEK = 168
DAY_START = 4  # a day's first event is looked for from 04:00 local (night owls' events before)
LONG_QUIET_H = 3.0  # a quiet stretch between two events of a day this long reads as an outing
SHRINK_DAYS = 2.0  # pseudo-days of all-day evidence behind a day type's own
NAMES = ("prior_logit", "near", "event", "before_first", "after_last", "long_quiet", "both_sides",
         "activity", "recent_near", "weekday_near", "days_log", "near_x_days", "quiet_x_days",
         "no_history", "midday", "midday_x_prior", "since_first", "to_last",
         "near_rel", "prior_x_days", "near_x_activity", "first_x_activity", "quiet_x_activity",
         "both_x_activity", "rel_x_days")


@dataclass(frozen=True)
class DayGrid:
    """Per lived local day (rows, oldest first) and hour of day: events and derived readings."""

    weekday: np.ndarray  # int[n_days]
    lived: np.ndarray  # bool[n_days, 24]
    readings: dict[str, np.ndarray]  # name -> float[n_days, 24] (0/1 where lived)
    events_per_day: float
    first: np.ndarray  # float[n_days]: hour of the day's first event from DAY_START, or nan
    last: np.ndarray  # float[n_days]: hour of its last event, or nan


def _any_near(ev: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """any(ev[:, h+lo .. h+hi]) per hour, across day boundaries (flattened timeline)."""
    flat = ev.ravel()
    n = flat.size
    out = np.zeros(n, dtype=bool)
    for k in range(lo, hi + 1):
        src = np.arange(n) + k
        ok = (src >= 0) & (src < n)
        out[ok] |= flat[src[ok]]
    return out.reshape(ev.shape)


def day_grid(ts_s: np.ndarray, *, tz: str, now: datetime, start_s: int) -> DayGrid:
    """Readings of every lived hour from `start_s` to `now` (local days of the household)."""
    now_s = int(now.timestamp())
    ts = np.sort(np.asarray(ts_s, dtype=np.int64))
    ts = ts[(ts >= start_s) & (ts <= now_s)]
    edge = local_hour(np.array([start_s, max(start_s, now_s - 1)], dtype=np.int64), tz)
    first_day, last_day = int(edge[0] // 24), int(edge[1] // 24)
    n_days = last_day - first_day + 1
    hours = np.arange(first_day * 24, (last_day + 1) * 24)
    lived = ((hours >= edge[0]) & (hours <= edge[1])).reshape(n_days, 24)
    counts = np.zeros(n_days * 24)
    if ts.size:
        np.add.at(counts, local_hour(ts, tz) - first_day * 24, 1.0)
    ev = (counts > 0).reshape(n_days, 24)
    # the day's first (from DAY_START) and last events, hours of day; days without any: none
    hod = np.arange(24)[None, :]
    day_ev = ev & (hod >= DAY_START)
    has = day_ev.any(axis=1)
    first = np.where(has, np.argmax(day_ev, axis=1), 24)
    last = np.where(has, 23 - np.argmax(day_ev[:, ::-1], axis=1), -1)
    before_first = (hod >= DAY_START) & (hod < first[:, None])
    after_last = hod > last[:, None]
    # long quiet stretches inside a day's active span: hours between two events of the day
    # that are at least LONG_QUIET_H apart
    quiet = np.zeros_like(ev)
    for d in np.flatnonzero(has):
        at = np.flatnonzero(day_ev[d])
        for a, b in itertools.pairwise(at):
            if b - a - 1 >= LONG_QUIET_H:
                quiet[d, a + 1:b] = True
    readings = {
        "near": _any_near(ev, -1, 1), "event": ev,
        "before_first": before_first & has[:, None], "after_last": after_last & has[:, None],
        "long_quiet": quiet,
        "both_sides": _any_near(ev, -2, -1) & _any_near(ev, 1, 2) & ~ev,
    }
    midday = ev[:, 11:15].any(axis=1) & lived[:, 14]
    readings["midday"] = np.repeat(midday[:, None], 24, axis=1)
    readings = {k: np.where(lived, v, False).astype(np.float64) for k, v in readings.items()}
    weekday = (np.arange(first_day, last_day + 1) + 3) % 7  # epoch day 0 was a Thursday
    full = lived.sum() / 24.0
    return DayGrid(weekday, lived, readings, float(ev[lived].sum() / max(full, 1.0)),
                   np.where(has, first, np.nan), np.where(has, last, np.nan))


def _day_type(weekday: np.ndarray) -> np.ndarray:
    return np.where(weekday < 5, 0, weekday - 4)


def features(grid: DayGrid, prior: np.ndarray, half_life_days: float = 21.0) -> np.ndarray:
    """float[168, len(NAMES)]: the feature rows of every hour of week (0 = Monday 00:00).

    Days weigh less with age (half-life `half_life_days`): recent weeks count more."""
    age = np.arange(grid.weekday.size)[::-1]
    day_w = (0.5 ** (age / half_life_days))[:, None]
    lived = grid.lived.astype(np.float64) * day_w
    types = _day_type(grid.weekday)

    def mean_over(mask: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        n = lived[mask].sum(axis=0)
        return (grid.readings[name] * day_w)[mask].sum(axis=0), n  # weighted sums, weights

    out = np.zeros((HOURS_PER_WEEK, len(NAMES)))
    all_mask = np.ones(types.size, dtype=bool)
    recent = np.zeros(types.size, dtype=bool)
    recent[-3:] = True  # today so far and the two days before
    total_days = float(grid.lived.sum() / 24.0)
    days_log = np.log1p(total_days)
    for w in range(7):
        rows = slice(w * 24, w * 24 + 24)
        t = 0 if w < 5 else w - 4
        same = types == t
        shrunk = {}
        for name in ("near", "event", "before_first", "after_last", "long_quiet", "both_sides",
                     "midday"):
            s_all, n_all = mean_over(all_mask, name)
            s_t, n_t = mean_over(same, name)
            base = s_all / np.maximum(n_all, 1.0)
            shrunk[name] = (s_t + SHRINK_DAYS * base) / (n_t + SHRINK_DAYS)
        s_w, n_w = mean_over(grid.weekday == w, "near")
        s_r, n_r = mean_over(recent, "near")
        p = np.clip(prior[rows], 0.02, 0.98)
        out[rows, 0] = np.log(p / (1 - p))
        for j, name in enumerate(NAMES[1:7], start=1):
            out[rows, j] = shrunk[name]
        out[rows, 7] = np.log1p(grid.events_per_day)
        out[rows, 8] = (s_r + shrunk["near"]) / (n_r + 1.0)
        out[rows, 9] = (s_w + SHRINK_DAYS * shrunk["near"]) / (n_w + SHRINK_DAYS)
        out[rows, 10] = days_log
        out[rows, 11] = shrunk["near"] * days_log
        out[rows, 12] = shrunk["long_quiet"] * days_log
        out[rows, 13] = float(total_days < 0.5)
        out[rows, 14] = shrunk["midday"]
        out[rows, 15] = shrunk["midday"] * out[rows, 0]
        first = _median(grid.first[same], grid.first, 7.0)
        last = _median(grid.last[same], grid.last, 21.0)
        hod = np.arange(24)
        out[rows, 16] = np.clip(hod - first, -3, 6) / 3.0
        out[rows, 17] = np.clip(last - hod, -3, 6) / 3.0
        near = out[rows, 1]
        rel = near / max(float(near[6:22].max()), 0.05)
        act = out[rows, 7]
        out[rows, 18:25] = np.column_stack([rel, out[rows, 0] * days_log, near * act,
                                            out[rows, 3] * act, out[rows, 5] * act,
                                            out[rows, 6] * act, rel * days_log])
    return out


# the household's day profile a window is read against: hour-of-day blocks 06:00-22:00 of the
# window's day (its day type's shrunk readings), per 2-hour window slot 08:00-20:00
PROFILE_COLS = tuple(range(1, 7))  # near, event, before_first, after_last, long_quiet, both_sides
PROFILE_BLOCKS = 8  # 06-08, 08-10, ... 20-22
SLOTS = 6  # window starts 08, 10, ... 18 (odd hours share the slot of the hour before)


def profile_features(hourly: np.ndarray, how: np.ndarray) -> np.ndarray:
    """Rows for windows starting at hours of week `how`: the window's slot of day (one-hot) and
    the household's profile of that day type crossed with it, so that each slot is read
    against the whole day (events at lunch but none at 06:00 say something about 09:00).
    Windows starting outside 08:00-20:00 get zeros."""
    how = np.asarray(how) % HOURS_PER_WEEK
    day, hod = how // 24, how % 24
    slot = (hod - 8) // 2
    onehot = np.zeros((how.size, SLOTS))
    inside = (hod >= 8) & (hod < 20)
    onehot[np.flatnonzero(inside), slot[inside]] = 1.0
    cols = list(PROFILE_COLS)
    rows = day[:, None] * 24 + np.arange(6, 22)[None, :]  # [n, 16]
    blocks = hourly[rows][:, :, cols].reshape(how.size, PROFILE_BLOCKS, 2, len(cols)).mean(axis=2)
    profile = blocks.transpose(0, 2, 1).reshape(how.size, -1)  # column-major: per reading, blocks
    scale = hourly[day * 24][:, [7, 10]]  # activity, log days
    return np.hstack([onehot, (onehot[:, :, None] * profile[:, None, :]).reshape(how.size, -1),
                      (onehot[:, :, None] * scale[:, None, :]).reshape(how.size, -1)])


def window_features(hourly: np.ndarray, how: np.ndarray) -> np.ndarray:
    """Rows for 2-hour windows starting at hours of week `how`: the lower and the higher of
    its two hours' features, column by column, then `profile_features`."""
    how = np.asarray(how)
    a, b = hourly[how % HOURS_PER_WEEK], hourly[(how + 1) % HOURS_PER_WEEK]
    return np.hstack([np.minimum(a, b), np.maximum(a, b), profile_features(hourly, how)])


def _median(values: np.ndarray, fallback: np.ndarray, default: float) -> float:
    """Median of the non-missing values, else of the fallback's, else `default`."""
    for v in (values, fallback):
        v = v[~np.isnan(v)]
        if v.size:
            return float(np.median(v))
    return default


def usage_floor(grid: DayGrid, half_life_days: float = 21.0,
                home_given_event: float = 0.9) -> np.ndarray:
    """float[168]: a lower bound on P(home) in each hour of week from the household's own
    events in that very hour. Someone who starts a cycle or opens a door is at home then, so
    P(home) >= P(an event in the hour) * P(home at the hour's middle | an event in it). The
    first factor is how often the hour held an event on the past days of the same weekday
    (recent days weigh more), shrunk toward the same hour on all days of its day type, itself
    shrunk toward all days; the second is `home_given_event` (measured on the simulator).
    Repeated same-hour events can only raise the bound; quiet hours leave it at zero."""
    age = np.arange(grid.weekday.size)[::-1]
    day_w = (0.5 ** (age / half_life_days))[:, None]
    lived = grid.lived.astype(np.float64) * day_w
    ev = grid.readings["event"] * day_w
    types = _day_type(grid.weekday)
    n_all = lived.sum(axis=0)
    base = ev.sum(axis=0) / np.maximum(n_all, 1.0)
    out = np.zeros(HOURS_PER_WEEK)
    for w in range(7):
        same = types == (0 if w < 5 else w - 4)
        typed = (ev[same].sum(axis=0) + SHRINK_DAYS * base) / (lived[same].sum(axis=0)
                                                               + SHRINK_DAYS)
        day = grid.weekday == w
        freq = (ev[day].sum(axis=0) + SHRINK_DAYS * typed) / (lived[day].sum(axis=0)
                                                              + SHRINK_DAYS)
        out[w * 24:w * 24 + 24] = home_given_event * freq
    return out
