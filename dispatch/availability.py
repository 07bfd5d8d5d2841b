"""Predicted availability: P(someone is home) for each local hour of the week, from usage.

Usage events are sparse and "no event" is weak evidence, so each hour of the week is described
by a few household-agnostic readings of the past days like it (events in and around the hour,
before the day's first event or after its last, inside a long quiet stretch between two events,
events on both sides, the household's activity and midday presence, how much history there is;
`availability_features`), and a logistic regression turns them, with the population prior's
logit, into P(home) in each hour and P(home for a whole 2-hour window). Its coefficients
(`availability_coef`) are fitted on simulated households the bench never uses
(`fixahead.lab.bench.availability_fit`). The hour's own events bound P(home) in it from below
(`availability_features.usage_floor`): a fit over many features must not talk the household's
repeated same-hour usage away. Days weigh less with age. Outcomes of visits (nobody
home, a confirmed visit, the customer's own pick) are strong evidence: each moves the log-odds
of its hours of week. Without consent, or without any event, the population prior is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from dispatch import (
    availability_coef,
    availability_coef_dense,
    availability_routine_coef,
    availability_routine_coef_dense,
)
from dispatch.availability_evidence import (
    HOURS_PER_WEEK,
    SEEN_AWAY,
    SEEN_HOME,
    Outcome,
    hour_of_week,
    instances,
    local_hour,
)
from dispatch.availability_features import day_grid, features, usage_floor, window_features
from dispatch.availability_routine import HOMEBODY, kind_posterior, summary

__all__ = [
    "HOURS_PER_WEEK",
    "Availability",
    "AvailabilityConfig",
    "Outcome",
    "days_from_confidence",
    "hour_of_week",
    "local_hour",
    "population_prior",
    "predict",
]

WEEK_S = 7 * 86400
CONFIDENCE_DAYS = 7.0  # confidence is days / (days + this): half with a week of history
# events a day: up to APPLIANCE_EVENTS_PER_DAY a log reads as an appliance log (99 % of
# simulated appliance histories have fewer than 43); from DENSE_EVENTS_PER_DAY on as a smart
# home's, whose ambient sensors (doors, cupboards, motion) report too (simulated: 19-150, 5th to
# 95th percentile; the real homes of `bench homes` 30 and 103); between the two the models'
# log-odds are blended in proportion to the log of the rate
APPLIANCE_EVENTS_PER_DAY = 40.0
DENSE_EVENTS_PER_DAY = 75.0


@dataclass(frozen=True)
class _Coefficients:
    hourly: np.ndarray
    window: np.ndarray
    routine: np.ndarray


def _coefficients(hourly: Sequence[float], window: Sequence[float],
                  routine: Sequence[Sequence[float]]) -> _Coefficients:
    return _Coefficients(np.asarray(hourly, dtype=np.float64),
                         np.asarray(window, dtype=np.float64),
                         np.asarray(routine, dtype=np.float64))


_APPLIANCES = _coefficients(availability_coef.HOURLY, availability_coef.WINDOW,
                            availability_routine_coef.COEF)
_DENSE = _coefficients(availability_coef_dense.HOURLY, availability_coef_dense.WINDOW,
                       availability_routine_coef_dense.COEF)


def _coefficients_for(events_per_day: float) -> _Coefficients:
    """The appliance logs' coefficients, the dense logs', or a blend of the two between."""
    w = float(np.clip(np.log(max(events_per_day, 1e-9) / APPLIANCE_EVENTS_PER_DAY)
                      / np.log(DENSE_EVENTS_PER_DAY / APPLIANCE_EVENTS_PER_DAY), 0.0, 1.0))
    if w in (0.0, 1.0):
        return _DENSE if w else _APPLIANCES
    return _Coefficients(*((1 - w) * a + w * d for a, d in (
        (_APPLIANCES.hourly, _DENSE.hourly), (_APPLIANCES.window, _DENSE.window),
        (_APPLIANCES.routine, _DENSE.routine))))


@dataclass(frozen=True)
class AvailabilityConfig:
    """Tunables."""

    window_weeks: int = 8  # history looked at
    half_life_weeks: float = 3.0  # a day's weight halves with this age
    outcome_logit: float = 0.7  # log-odds moved per pseudo-observation of an outcome
    # P(home at an hour's middle | a usage event in the hour): 0.97 on the simulator; taken
    # lower, as real appliances may report a few starts nobody was there for
    home_given_event: float = 0.9

    def __post_init__(self) -> None:
        if self.window_weeks <= 0 or self.half_life_weeks <= 0 or self.outcome_logit < 0:
            raise ValueError("window_weeks and half_life_weeks must be positive, "
                             "outcome_logit not negative")
        if not 0.0 <= self.home_given_event <= 1.0:
            raise ValueError("home_given_event must be in [0, 1]")

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
    # P(home for the whole 2-hour window starting at each hour of week), when computed
    p_window: np.ndarray | None = None
    days: float = 0.0  # days of usage history behind it (the pick asks more of thin evidence)
    # P(the household's routine is being home all day), from its event times
    # (availability_routine): the pick asks more before leaving its first window
    homebody: float = 0.0

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


def days_from_confidence(confidence: np.ndarray) -> float:
    """The days of usage history behind a stored model, read back from its confidence
    (`days / (days + CONFIDENCE_DAYS)`, the same in every hour): 0 for the prior alone."""
    c = float(np.clip(np.mean(confidence), 0.0, 1.0 - 1e-9)) if np.size(confidence) else 0.0
    return CONFIDENCE_DAYS * c / (1.0 - c)


def population_prior() -> np.ndarray:
    """Population P(home) per hour of week, by day type (weekday, Saturday, Sunday)."""
    return np.array(_WEEKDAY * 5 + _SATURDAY + _SUNDAY, dtype=np.float64)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def _outcome_shift(how: np.ndarray, weight: np.ndarray, kind: np.ndarray,
                   config: AvailabilityConfig) -> np.ndarray:
    """Log-odds shift per hour of week from outcome hours (SEEN_HOME up, SEEN_AWAY down)."""
    sign = np.where(kind == SEEN_HOME, 1.0, np.where(kind == SEEN_AWAY, -1.0, 0.0))
    return np.bincount(how, weights=sign * weight * config.outcome_logit,
                       minlength=HOURS_PER_WEEK)[:HOURS_PER_WEEK]


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
    """P(home) per hour of week (and per 2-hour window) from usage times and visit outcomes.

    Hours count as observed from `observed_since` (default: the first event in the window)
    until `now`; events after `now` are ignored. Without consent: the prior."""
    base = population_prior() if prior is None else np.asarray(prior, dtype=np.float64)
    if base.shape != (HOURS_PER_WEEK,):
        raise ValueError(f"prior must have shape ({HOURS_PER_WEEK},), got {base.shape}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not consent:
        return Availability(base.copy(), np.zeros(HOURS_PER_WEEK), tz, 0)
    now_s = int(now.timestamp())
    window_start = now_s - config.window_weeks * WEEK_S
    ts = np.sort(np.asarray(ts_s, dtype=np.int64))
    ts = ts[(ts <= now_s) & (ts > window_start)]
    start = int(ts[0]) if ts.size else now_s
    if observed_since is not None:
        start = max(int(observed_since.timestamp()), window_start)
        ts = ts[ts >= start]
    obs = instances(ts, tz=tz, now=now, observed_since=datetime.fromtimestamp(start, UTC),
                    window_weeks=config.window_weeks, decay=config.decay, bridge_hours=0.0,
                    outcomes=outcomes)
    shift = _outcome_shift(obs.how, obs.weight, obs.kind, config)
    if ts.size == 0:
        logit = np.log(np.clip(base, 0.01, 0.99) / (1 - np.clip(base, 0.01, 0.99)))
        p = _sigmoid(logit + shift) if shift.any() else base.copy()
        return Availability(p, np.zeros(HOURS_PER_WEEK), tz, 0)
    grid = day_grid(ts, tz=tz, now=now, start_s=start)
    days = float(grid.lived.sum()) / 24.0
    coef = _coefficients_for(ts.size / max(days, 1.0))
    f = features(grid, base, half_life_days=7.0 * config.half_life_weeks)
    # the fitted model reads an hour through many features and may let the day's shape
    # outweigh the hour's own events; those events bound P(home) from below (monotone: more
    # same-hour events can only raise it), before the outcomes of visits move it
    fitted = _sigmoid(f @ coef.hourly[:-1] + coef.hourly[-1])
    floor = usage_floor(grid, half_life_days=7.0 * config.half_life_weeks,
                        home_given_event=config.home_given_event)
    lifted = np.clip(np.maximum(fitted, floor), 1e-6, 1 - 1e-6)
    p_hour = _sigmoid(np.log(lifted / (1 - lifted)) + shift)
    how = np.arange(HOURS_PER_WEEK)
    both = shift + np.roll(shift, -1)
    p_window = _sigmoid(window_features(f, how) @ coef.window[:-1] + coef.window[-1] + both)
    # someone home for a whole window is home in each of its hours: the window model, which
    # reads the hour against the household's whole day, bounds each hour from below too
    p_hour = np.maximum(p_hour, np.maximum(p_window, np.roll(p_window, 1)))
    confidence = np.full(HOURS_PER_WEEK, days / (days + CONFIDENCE_DAYS))
    routine = kind_posterior(summary(grid, ts, tz=tz, start_s=start, now_s=now_s), coef.routine)
    return Availability(p_hour, confidence, tz, int(ts.size), p_window, days,
                        float(routine[HOMEBODY]))
