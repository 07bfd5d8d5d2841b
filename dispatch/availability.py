"""Predicted availability: P(someone is home) for each local hour of the week, from usage.

A Bayesian model that knows what it does not know. Each hour lived since data started is one
observation of its hour of week: an hour with a usage event says "home"; an hour without one
is weak evidence of absence, as strong as the household's chance of using an appliance in
that hour of day when home (small for a one-person home, nearly nothing at night); a quiet
hour between two events a short while apart reads as probably home. Recent weeks weigh more.
The posterior is computed exactly on a grid, hour of week by hour of week, under a Beta prior
from the household's own estimate for the same hour of day and day type (weekdays, Saturday,
Sunday), itself under a population prior. Outcomes of visits (nobody home, a confirmed visit,
the customer's own pick) are strong evidence. Without consent the population prior is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.availability_evidence import (
    HOURS_PER_WEEK,
    Outcome,
    hour_of_week,
    instances,
    local_hour,
)

__all__ = [
    "HOURS_PER_WEEK",
    "Availability",
    "AvailabilityConfig",
    "Outcome",
    "hour_of_week",
    "local_hour",
    "population_prior",
    "predict",
]

WEEK_S = 7 * 86400
GRID = np.linspace(0.005, 0.995, 100)
# how likely a household at home uses an appliance in each local hour of day, relative to
# its own average (meals and mornings high, nights nearly nothing)
ACTIVITY_SHAPE = np.array([0.03, 0.02, 0.02, 0.02, 0.03, 0.1, 0.6, 1.2, 1.2, 0.8, 0.7, 0.8,
                           1.0, 0.9, 0.7, 0.7, 0.8, 1.0, 1.3, 1.3, 1.0, 0.8, 0.5, 0.15])


@dataclass(frozen=True)
class AvailabilityConfig:
    """Tunables (strengths are pseudo-observations: hours seen)."""

    window_weeks: int = 8
    half_life_weeks: float = 3.0
    prior_strength: float = 6.0  # population prior -> household's pooled hour of day
    pool_strength: float = 4.0  # household's pooled hour of day -> its hour of week
    bridge_hours: float = 2.0  # a quiet hour at most this far from events on both sides
    bridge_away: float = 0.2  # likelihood of such a bridged hour when away, relative to home
    activity_floor: float = 0.02
    activity_cap: float = 0.7  # quiet hours never read as more than fairly sure absence
    activity_top_hours: int = 3  # hours of day whose levels are averaged: the surely-home ones
    activity_min_exposure: float = 2.0
    activity_default: float = 0.3
    em_rounds: int = 3

    def __post_init__(self) -> None:
        if self.pool_strength <= 0 or self.prior_strength <= 0:
            raise ValueError("pool_strength and prior_strength must be positive")
        if not 0.0 < self.activity_floor <= self.activity_cap <= 1.0:
            raise ValueError("need 0 < activity_floor <= activity_cap <= 1")

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


# population P(home) by hour of day for weekdays, Saturday, Sunday (docs/simulator.md)
_WEEKDAY = (0.94, 0.95, 0.95, 0.95, 0.95, 0.94, 0.92, 0.85, 0.65, 0.55, 0.5, 0.5,
            0.5, 0.5, 0.5, 0.52, 0.58, 0.66, 0.74, 0.77, 0.8, 0.85, 0.9, 0.93)
_SATURDAY = (0.92, 0.93, 0.94, 0.94, 0.94, 0.94, 0.93, 0.92, 0.88, 0.78, 0.68, 0.62,
             0.6, 0.6, 0.6, 0.6, 0.62, 0.66, 0.7, 0.7, 0.7, 0.75, 0.82, 0.88)
_SUNDAY = (0.9, 0.92, 0.93, 0.94, 0.94, 0.94, 0.94, 0.93, 0.9, 0.82, 0.72, 0.66,
           0.66, 0.64, 0.62, 0.62, 0.66, 0.72, 0.78, 0.8, 0.82, 0.86, 0.9, 0.93)


def population_prior() -> np.ndarray:
    """Population P(home) per hour of week, by day type (weekday, Saturday, Sunday)."""
    return np.array(_WEEKDAY * 5 + _SATURDAY + _SUNDAY, dtype=np.float64)


def _day_type(how: np.ndarray) -> np.ndarray:
    day = how // 24
    return np.where(day < 5, 0, day - 4)  # 0 weekday, 1 Saturday, 2 Sunday


def _beta_log(mean: np.ndarray, strength: float) -> np.ndarray:
    """Log Beta(strength * mean, strength * (1 - mean)) on the grid, rows = means."""
    m = np.clip(mean, 0.01, 0.99)[:, None]
    return (strength * m - 1) * np.log(GRID) + (strength * (1 - m) - 1) * np.log1p(-GRID)


def _posterior(loglik: np.ndarray, logprior: np.ndarray,
               prior_mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation on the grid, row by row.

    A Beta prior near 0 or 1 has mass beyond the grid's ends: the mean is shifted by what the
    grid loses of the prior's own mean, so that no evidence gives back the prior exactly."""
    w0 = np.exp(logprior - logprior.max(axis=1, keepdims=True))
    shift = np.clip(prior_mean, 0.01, 0.99) - (w0 @ GRID) / w0.sum(axis=1)
    lp = loglik + logprior
    w = np.exp(lp - lp.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    mean = np.clip(w @ GRID + shift, 0.0, 1.0)
    sd = np.sqrt(np.maximum(w @ GRID**2 - mean**2, 0.0))
    return mean, sd


def _loglik(how: np.ndarray, weight: np.ndarray, kind: np.ndarray, rate: np.ndarray,
            config: AvailabilityConfig, rows: np.ndarray) -> np.ndarray:
    """Weighted log-likelihood on the grid per row (rows[j]: the row of instance j)."""
    g = GRID[None, :]
    r = rate[:, None]
    seen = (kind[:, None] == 1) | (kind[:, None] == 3)
    lik = np.where(seen, g,  # an event or a seen visit: home (an event's r is a constant)
                   np.where(kind[:, None] == 2, g * (1 - r) + (1 - g) * config.bridge_away,
                            1 - g * r))
    out = np.zeros((int(rows.max()) + 1 if rows.size else 1, GRID.size))
    np.add.at(out, rows, weight[:, None] * np.log(lik))
    return out


def _activity_level(hod: np.ndarray, weight: np.ndarray, active: np.ndarray,
                    p_home: np.ndarray, config: AvailabilityConfig) -> float:
    """Events per home hour relative to ACTIVITY_SHAPE, at the household's busiest hours."""
    seen = np.bincount(hod, weights=weight * p_home, minlength=24)
    used = np.bincount(hod, weights=weight * active, minlength=24)
    ok = seen >= config.activity_min_exposure
    if not ok.any():
        return config.activity_default
    ratio = np.sort(used[ok] / seen[ok] / ACTIVITY_SHAPE[ok])
    return float(ratio[-config.activity_top_hours:].mean())


def predict(
    ts_s: Sequence[int] | np.ndarray,
    *,
    tz: str,
    now: datetime,
    consent: bool,
    prior: np.ndarray | None = None,
    observed_since: datetime | None = None,
    outcomes: Sequence[Outcome] = (),
    config: AvailabilityConfig = AvailabilityConfig(),
) -> Availability:
    """P(home) per hour of week from usage times (epoch seconds) and visit outcomes.

    Hours count as observed from `observed_since` (default: the first event in the window)
    until `now`; hours not yet lived or before it say nothing. Without consent: the prior."""
    base = population_prior() if prior is None else np.asarray(prior, dtype=np.float64)
    if base.shape != (HOURS_PER_WEEK,):
        raise ValueError(f"prior must have shape ({HOURS_PER_WEEK},), got {base.shape}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not consent:
        return Availability(base.copy(), np.zeros(HOURS_PER_WEEK), tz, 0)
    obs = instances(np.asarray(ts_s, dtype=np.int64), tz=tz, now=now,
                    observed_since=observed_since, window_weeks=config.window_weeks,
                    decay=config.decay, bridge_hours=config.bridge_hours, outcomes=outcomes)
    how, hod = obs.how, obs.how % 24
    group = _day_type(how) * 24 + hod  # 72 (day type, hour of day) groups
    types = _day_type(np.arange(HOURS_PER_WEEK))
    group_prior = np.array([base[types == t].reshape(-1, 24).mean(axis=0) for t in range(3)]
                           ).ravel()
    p_how = base.copy()
    active = obs.kind == 1
    sd = np.full(HOURS_PER_WEEK, 0.5)
    for _ in range(max(1, config.em_rounds)):
        # the household's activity level, from its busiest hours of day (where it is surely
        # home): P(an event in an hour | home) = level * ACTIVITY_SHAPE
        level = _activity_level(hod, obs.weight, active, p_how[how], config)
        rate = np.clip(level * ACTIVITY_SHAPE[hod], config.activity_floor, config.activity_cap)
        rate = np.where(obs.kind >= 3, 1.0, rate)  # outcomes: seen directly
        ll_group = _loglik(how, obs.weight, obs.kind, rate, config, group) if how.size \
            else np.zeros((72, GRID.size))
        ll_group = np.vstack([ll_group, np.zeros((72 - ll_group.shape[0], GRID.size))])
        pooled, _ = _posterior(ll_group / 2.0, _beta_log(group_prior, config.prior_strength),
                               group_prior)
        ll_how = _loglik(how, obs.weight, obs.kind, rate, config, how) if how.size \
            else np.zeros((HOURS_PER_WEEK, GRID.size))
        ll_how = np.vstack([ll_how, np.zeros((HOURS_PER_WEEK - ll_how.shape[0], GRID.size))])
        pooled_how = pooled[types * 24 + np.arange(HOURS_PER_WEEK) % 24]
        p_how, sd = _posterior(ll_how, _beta_log(pooled_how, config.pool_strength), pooled_how)
    confidence = np.clip(1.0 - sd / np.sqrt(base * (1 - base) / (config.prior_strength + 1)),
                         0.0, 1.0)
    return Availability(p_how, confidence, tz, obs.events)
