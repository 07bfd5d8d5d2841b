"""Predicted availability: P(someone is home) for each hour of the week, from appliance usage.

Usage events (cycles started, doors opened, hot water drawn) mark hours when someone was home.
Each week of history is weighed by an exponential decay (newer weeks count more); the share of
weighted weeks with activity in an hour is smoothed toward a population prior (a Beta prior of
`prior_weeks` pseudo-weeks), so a household with little data gets the prior, with low confidence.
Only with the household's consent: without it the prior is returned with confidence 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.availability_kernel import HOURS_PER_WEEK, presence_kernel

WEEK_S = 7 * 86400


@dataclass(frozen=True)
class AvailabilityConfig:
    """Tunables of the availability model."""

    window_weeks: int = 8
    half_life_weeks: float = 4.0
    prior_weeks: float = 1.0
    spread_hours: int = 0  # hours either side of a use also counted as home (1 overstated)
    full_week_events: float = 10.0  # a week with fewer events counts as partly observed

    @property
    def decay(self) -> float:
        """Per-week weight factor."""
        return float(0.5 ** (1.0 / self.half_life_weeks))


@dataclass(frozen=True)
class Availability:
    """P(home) per local hour of week (0 = Monday 00:00) and how much to trust it."""

    p_home: np.ndarray  # float64[168]
    confidence: np.ndarray  # float64[168], 0..1
    tz: str
    events: int

    @property
    def overall_confidence(self) -> float:
        """Mean confidence over the week."""
        return float(self.confidence.mean())

    def at(self, when: datetime) -> float:
        """P(home) at an aware instant."""
        local = when.astimezone(ZoneInfo(self.tz))
        return float(self.p_home[local.weekday() * 24 + local.hour])


def population_prior() -> np.ndarray:
    """A default population P(home) per hour of week: nights high, weekday office hours low."""
    p = np.empty(HOURS_PER_WEEK)
    for day in range(7):
        for hour in range(24):
            if hour < 7 or hour >= 22:
                v = 0.92
            elif day < 5 and 9 <= hour < 16:
                v = 0.35
            elif day < 5 and (hour < 9 or hour >= 16):
                v = 0.7
            else:
                v = 0.65
            p[day * 24 + hour] = v
    return p


def hour_of_week(ts_s: np.ndarray, tz: str) -> np.ndarray:
    """Local hour of week (0 = Monday 00:00) of epoch seconds in `tz`, DST-aware."""
    ts = np.asarray(ts_s, dtype=np.int64)
    if ts.size == 0:
        return np.zeros(0, dtype=np.int64)
    zone = ZoneInfo(tz)
    hours, inverse = np.unique(ts // 3600, return_inverse=True)
    offsets = np.fromiter(
        (datetime.fromtimestamp(int(h) * 3600, zone).utcoffset().total_seconds()  # type: ignore[union-attr]
         for h in hours), dtype=np.int64, count=hours.size)
    local = ts + offsets[inverse.reshape(-1)]
    # 1970-01-01 was a Thursday: shift by three days so that Monday 00:00 is hour 0
    return ((local // 3600) + 72) % HOURS_PER_WEEK


def _inputs(ts_s: np.ndarray, now: datetime, tz: str, config: AvailabilityConfig,
            observed_since: datetime | None) -> tuple[np.ndarray, np.ndarray, int]:
    ts = np.asarray(ts_s, dtype=np.int64)
    now_s = int(now.timestamp())
    ts = ts[(ts <= now_s) & (ts > now_s - config.window_weeks * WEEK_S)]
    if observed_since is not None:
        start: int | None = int(observed_since.timestamp())
    else:
        start = int(ts.min()) if ts.size else None
    span = -1 if start is None or start > now_s else (now_s - start) // WEEK_S
    n_weeks = int(min(config.window_weeks, span + 1))
    age = (now_s - ts) // WEEK_S
    return age.astype(np.int64), hour_of_week(ts, tz), n_weeks


def predict(
    ts_s: Sequence[int] | np.ndarray,
    *,
    tz: str,
    now: datetime,
    consent: bool,
    prior: np.ndarray | None = None,
    observed_since: datetime | None = None,
    config: AvailabilityConfig = AvailabilityConfig(),
) -> Availability:
    """P(home) per hour of week from usage times (epoch seconds); the prior without consent."""
    base = population_prior() if prior is None else np.asarray(prior, dtype=np.float64)
    if base.shape != (HOURS_PER_WEEK,):
        raise ValueError(f"prior must have shape ({HOURS_PER_WEEK},), got {base.shape}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not consent:
        return Availability(base.copy(), np.zeros(HOURS_PER_WEEK), tz, 0)
    age, how, n_weeks = _inputs(np.asarray(ts_s), now, tz, config, observed_since)
    p, conf = presence_kernel(age, how, n_weeks, config.decay, config.spread_hours, base,
                              float(config.prior_weeks), float(config.full_week_events))
    return Availability(p, conf, tz, int(age.size))


def predict_reference(
    ts_s: Sequence[int], *, tz: str, now: datetime, prior: Sequence[float],
    observed_since: datetime | None = None, config: AvailabilityConfig = AvailabilityConfig(),
) -> tuple[list[float], list[float]]:
    """Slow, obvious pure-Python version of `predict` (for tests)."""
    zone = ZoneInfo(tz)
    window_start = now - timedelta(weeks=config.window_weeks)
    events = [datetime.fromtimestamp(t, zone) for t in ts_s]
    events = [e for e in events if window_start < e <= now]
    if observed_since is None and events:
        observed_since = min(events)
    n_weeks = 0
    while (observed_since is not None and n_weeks < config.window_weeks
           and now - timedelta(weeks=n_weeks) >= observed_since):
        n_weeks += 1
    active = set()
    counts = [0] * n_weeks
    for e in events:
        week = int((now - e).total_seconds() // WEEK_S)
        if week >= n_weeks:
            continue
        counts[week] += 1
        local = e.astimezone(zone)
        h = local.weekday() * 24 + local.hour
        for d in range(-config.spread_hours, config.spread_hours + 1):
            active.add((week, (h + d) % HOURS_PER_WEEK))
    weights = [config.decay ** w * min(1.0, counts[w] / config.full_week_events)
               for w in range(n_weeks)]
    n_eff = sum(weights)
    k = config.prior_weeks
    p = [(prior[h] * k + sum(weights[w] for w in range(n_weeks) if (w, h) in active)) / (k + n_eff)
         for h in range(HOURS_PER_WEEK)]
    return p, [n_eff / (n_eff + k) if n_eff + k > 0 else 0.0] * HOURS_PER_WEEK
