"""Predicted availability: P(someone is home) for each hour of the week, from appliance usage.

Usage events (cycles started, doors opened, hot water drawn) mark hours when someone was home.
Every hour lived since data started (and within the window) is one observation of its local
hour of week, weighed by recency; hours still to come or before the data say nothing. A whole
day without any event is treated as a device that was not reporting (no evidence either way).
The share of observed hours with usage, divided by the household's own activity rate (usage
happens in only some of the hours someone is home), is shrunk toward the household's pooled
estimate for the same hour of day and day type (weekdays, weekend), itself shrunk toward a
population prior; a household with little data gets the prior, with low confidence.
Only with the household's consent: without it the prior is returned with confidence 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.availability_kernel import HOURS_PER_WEEK, presence_kernel

WEEK_S = 7 * 86400


@dataclass(frozen=True)
class AvailabilityConfig:
    """Tunables of the availability model (strengths are pseudo-observations: hours seen)."""

    window_weeks: int = 8
    half_life_weeks: float = 4.0
    # hour of week -> household's same hour of day and day type; the simulator (no fixed-weekday
    # routines) rewards more, real routines (part-time Fridays) need the hour's own data to win
    pool_strength: float = 4.0
    prior_strength: float = 2.0  # household's pooled hour -> population prior
    weekend_pooled: bool = True  # Saturday and Sunday share one pooled day type
    neighbour_weight: float = 0.25  # adjacent hours of day in the pooled estimate
    spread_hours: int = 0  # hours either side of a use also counted as home (1 overstated)
    silent_day_weight: float = 0.0  # a whole local day without any usage event
    # usage share / the household's activity rate: the quantile of its pooled per-hour shares,
    # floored (1.0 turns it off); a household that uses appliances in few of its home hours
    # still reads as surely home in its surest ones
    activity_quantile: float = 0.9
    activity_floor: float = 0.3
    activity_min_exposure: float = 2.0

    def __post_init__(self) -> None:
        if self.pool_strength <= 0 or self.prior_strength <= 0:
            raise ValueError("pool_strength and prior_strength must be positive")
        if not 0.0 <= self.activity_quantile <= 1.0 or not 0.0 < self.activity_floor <= 1.0:
            raise ValueError("activity_quantile must be in [0, 1], activity_floor in (0, 1]")

    @property
    def decay(self) -> float:
        """Per-week weight factor."""
        return float(0.5 ** (1.0 / self.half_life_weeks))

    @property
    def day_types(self) -> tuple[int, ...]:
        """Pooled day type of each weekday (Monday first)."""
        return (0, 0, 0, 0, 0, 1, 1) if self.weekend_pooled else (0, 0, 0, 0, 0, 1, 2)


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


def _local_hour(ts_s: np.ndarray, tz: str) -> np.ndarray:
    """Local hour index (local wall-clock seconds since the epoch // 3600), DST-aware."""
    ts = np.asarray(ts_s, dtype=np.int64)
    if ts.size == 0:
        return np.zeros(0, dtype=np.int64)
    zone = ZoneInfo(tz)
    hours, inverse = np.unique(ts // 3600, return_inverse=True)
    offsets = np.fromiter(
        (datetime.fromtimestamp(int(h) * 3600, zone).utcoffset().total_seconds()  # type: ignore[union-attr]
         for h in hours), dtype=np.int64, count=hours.size)
    return (ts + offsets[inverse.reshape(-1)]) // 3600


def hour_of_week(ts_s: np.ndarray, tz: str) -> np.ndarray:
    """Local hour of week (0 = Monday 00:00) of epoch seconds in `tz`, DST-aware."""
    # 1970-01-01 was a Thursday: shift by three days so that Monday 00:00 is hour 0
    return (_local_hour(ts_s, tz) + 72) % HOURS_PER_WEEK


def _span(ts: np.ndarray, now_s: int, config: AvailabilityConfig,
          observed_since: datetime | None) -> tuple[int, np.ndarray]:
    """Start of the observed span (seconds) and the events inside it."""
    ts = ts[(ts <= now_s) & (ts > now_s - config.window_weeks * WEEK_S)]
    if observed_since is not None:
        start = max(int(observed_since.timestamp()), now_s - config.window_weeks * WEEK_S)
        ts = ts[ts >= start]
    else:
        start = int(ts.min()) if ts.size else now_s
    return start, ts


def _exposure(start: int, now_s: int, tz: str,
              config: AvailabilityConfig) -> tuple[np.ndarray, ...]:
    """Hour instances of [start, now): absolute hour, hour of week, local day, weight."""
    first, last = start // 3600, (now_s - 1) // 3600
    hours = np.arange(first, last + 1, dtype=np.int64) if now_s > start else np.zeros(0, np.int64)
    begin = np.maximum(hours * 3600, start)
    lived = (np.minimum(hours * 3600 + 3600, now_s) - begin) / 3600.0
    weight = lived * config.decay ** ((now_s - begin) // WEEK_S)
    local = _local_hour(hours * 3600, tz)
    return hours, (local + 72) % HOURS_PER_WEEK, local // 24, weight


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
    """P(home) per hour of week from usage times (epoch seconds); the prior without consent.

    Hours count as observed from `observed_since` (when data started; default: the first
    event in the window) until `now`; hours not yet lived or before it say nothing."""
    base = population_prior() if prior is None else np.asarray(prior, dtype=np.float64)
    if base.shape != (HOURS_PER_WEEK,):
        raise ValueError(f"prior must have shape ({HOURS_PER_WEEK},), got {base.shape}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not consent:
        return Availability(base.copy(), np.zeros(HOURS_PER_WEEK), tz, 0)
    now_s = int(now.timestamp())
    start, ts = _span(np.asarray(ts_s, dtype=np.int64), now_s, config, observed_since)
    hours, how, day, weight = _exposure(start, now_s, tz, config)
    first = int(hours[0]) if hours.size else 0
    p, conf = presence_kernel(
        ts // 3600 - first, how, day, weight, base, np.asarray(config.day_types, np.int64),
        float(config.pool_strength), float(config.prior_strength),
        float(config.neighbour_weight), int(config.spread_hours),
        float(config.silent_day_weight), float(config.activity_quantile),
        float(config.activity_floor), float(config.activity_min_exposure))
    return Availability(p, conf, tz, int(ts.size))


def predict_reference(
    ts_s: Sequence[int], *, tz: str, now: datetime, prior: Sequence[float],
    observed_since: datetime | None = None, config: AvailabilityConfig = AvailabilityConfig(),
) -> tuple[list[float], list[float]]:
    """Slow, obvious pure-Python version of `predict` (for tests)."""
    zone = ZoneInfo(tz)
    now_s = int(now.timestamp())
    window_start = now_s - config.window_weeks * WEEK_S
    events = [t for t in ts_s if window_start < t <= now_s]
    if observed_since is not None:
        start = max(int(observed_since.timestamp()), window_start)
        events = [t for t in events if t >= start]
    else:
        start = min(events) if events else now_s
    # one observation per absolute hour lived in [start, now), labelled by its local hour
    instances = []  # (absolute hour, hour of week, local date, weight)
    h = start // 3600
    while h * 3600 < now_s:
        begin = max(h * 3600, start)
        lived = (min(h * 3600 + 3600, now_s) - begin) / 3600.0
        local = datetime.fromtimestamp(h * 3600, zone)
        age_weeks = (now_s - begin) // WEEK_S
        instances.append((h, local.weekday() * 24 + local.hour, local.date(),
                          lived * config.decay ** age_weeks))
        h += 1
    event_hours = [t // 3600 for t in events]
    busy = {e + d for e in event_hours
            for d in range(-config.spread_hours, config.spread_hours + 1)}
    day_of_hour = {hour: date for hour, _, date, _ in instances}
    used_days = {day_of_hour[e] for e in event_hours if e in day_of_hour}
    today = instances[-1][2] if instances else None
    s = [0.0] * HOURS_PER_WEEK
    n = [0.0] * HOURS_PER_WEEK
    for hour, how, date, w in instances:
        if date not in used_days and date != today:
            w *= config.silent_day_weight
        n[how] += w
        if hour in busy:
            s[how] += w
    types = config.day_types

    def group(x: int) -> tuple[int, int]:
        return types[x // 24], x % 24

    gs0: dict[tuple[int, int], float] = {}
    gn0: dict[tuple[int, int], float] = {}
    for x in range(HOURS_PER_WEEK):
        gs0[group(x)] = gs0.get(group(x), 0.0) + s[x]
        gn0[group(x)] = gn0.get(group(x), 0.0) + n[x]

    def pooled(d: dict[tuple[int, int], float], g: tuple[int, int]) -> float:
        around = d[(g[0], (g[1] + 23) % 24)] + d[(g[0], (g[1] + 1) % 24)]
        return d[g] + config.neighbour_weight * around

    gs = {g: pooled(gs0, g) for g in gs0}
    gn = {g: pooled(gn0, g) for g in gn0}
    shares = sorted(gs[g] / gn[g] for g in sorted(gs)
                    if gn[g] >= config.activity_min_exposure and gn[g] > 0)
    rate = 1.0
    if shares:
        q = shares[int(config.activity_quantile * (len(shares) - 1))]
        rate = min(1.0, max(config.activity_floor, q))
    p, conf = [], []
    kp, kq = config.pool_strength, config.prior_strength
    for x in range(HOURS_PER_WEEK):
        g = group(x)
        middle = (min(gs[g] / rate, gn[g]) + kq * prior[x]) / (gn[g] + kq)
        p.append((min(s[x] / rate, n[x]) + kp * middle) / (n[x] + kp))
        conf.append(1.0 - kp / (n[x] + kp) * kq / (gn[g] + kq))
    return p, conf
