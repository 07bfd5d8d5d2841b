"""Remaining life learnt from run-to-failure units (pure numpy).

A unit's readings (cycles x sensors, with operating-condition settings) are normalised per
operating condition, smoothed by two EWMAs along the unit's life (weights SMOOTH and SLOW_SMOOTH),
and a ridge regression on the fast one, its squares and the gap between the two (the recent
trend of each sensor: degradation accelerates towards failure) predicts the remaining
cycles, capped at RUL_CAP (early in life the remaining life cannot be told apart, the usual
convention). The range is the
10-90 % quantiles of the training residuals of predictions in the same band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RUL_CAP = 125.0
SMOOTH = 0.1  # EWMA weight along a unit's cycles
SLOW_SMOOTH = 0.03  # the slower EWMA; fast minus slow is the recent trend
RIDGE = 1.0
BANDS = (0.0, 25.0, 50.0, 75.0, 100.0, np.inf)


@dataclass(frozen=True)
class LifeModel:
    """A fitted remaining-life model."""

    conditions: np.ndarray  # (k, s) rounded operating settings of each condition
    mean: np.ndarray  # (k, m) sensor means per condition
    std: np.ndarray  # (k, m)
    keep: np.ndarray  # (m,) bool: sensors that vary
    coef: np.ndarray  # (f,)
    lo: np.ndarray  # (bands,) residual 10 % quantile per predicted band
    hi: np.ndarray  # (bands,)


def _condition(settings: np.ndarray, conditions: np.ndarray) -> np.ndarray:
    d = ((settings[:, None, :] - conditions[None]) ** 2).sum(-1)
    return np.argmin(d, axis=1)


def _features(model_or_none: LifeModel | None, settings: np.ndarray, sensors: np.ndarray,
              unit: np.ndarray, stats: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    cond, mean, std, keep = stats if stats else (
        model_or_none.conditions, model_or_none.mean, model_or_none.std, model_or_none.keep)
    c = _condition(settings, cond)
    z = ((sensors - mean[c]) / std[c])[:, keep]
    out = np.empty_like(z)
    slow = np.empty_like(z)
    for u in np.unique(unit):
        idx = np.flatnonzero(unit == u)
        acc = z[idx[0]].copy()
        acc_slow = acc.copy()
        for i in idx[1:]:
            acc += SMOOTH * (z[i] - acc)
            acc_slow += SLOW_SMOOTH * (z[i] - acc_slow)
            out[i] = acc
            slow[i] = acc_slow
        out[idx[0]] = slow[idx[0]] = z[idx[0]]
    return np.hstack([np.ones((len(z), 1)), out, out ** 2, out - slow])


def remaining_life_target(unit: np.ndarray, cycle: np.ndarray) -> np.ndarray:
    """Capped remaining cycles of each row of run-to-failure units."""
    last = {u: cycle[unit == u].max() for u in np.unique(unit)}
    return np.minimum(np.array([last[u] for u in unit]) - cycle, RUL_CAP)


def fit(unit: np.ndarray, cycle: np.ndarray, settings: np.ndarray,
        sensors: np.ndarray) -> LifeModel:
    """Learn a model from run-to-failure units (each unit's last row is its failure)."""
    conditions = np.unique(np.round(settings, 0 if np.ptp(settings[:, 0]) > 1 else 3), axis=0)
    if len(conditions) > 12:  # a single condition with measurement noise
        conditions = settings.mean(0, keepdims=True)
    c = _condition(settings, conditions)
    mean = np.array([sensors[c == k].mean(0) for k in range(len(conditions))])
    std = np.array([sensors[c == k].std(0) for k in range(len(conditions))])
    keep = (std > 1e-6).all(0)
    std = np.where(std > 1e-6, std, 1.0)
    x = _features(None, settings, sensors, unit, (conditions, mean, std, keep))
    y = remaining_life_target(unit, cycle)
    reg = RIDGE * np.eye(x.shape[1])
    reg[0, 0] = 0.0
    coef = np.linalg.solve(x.T @ x + reg, x.T @ y)
    pred = np.clip(x @ coef, 0.0, RUL_CAP)
    band = np.digitize(pred, BANDS[1:-1])
    res = y - pred
    lo = np.array([np.quantile(res[band == b], 0.1) if (band == b).any() else -20.0
                   for b in range(len(BANDS) - 1)])
    hi = np.array([np.quantile(res[band == b], 0.9) if (band == b).any() else 20.0
                   for b in range(len(BANDS) - 1)])
    return LifeModel(conditions, mean, std, keep, coef, lo, hi)


def predict(model: LifeModel, unit: np.ndarray, settings: np.ndarray,
            sensors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(estimate, low, high) remaining cycles at every row, from that unit's rows so far."""
    pred = np.clip(_features(model, settings, sensors, unit) @ model.coef, 0.0, RUL_CAP)
    band = np.digitize(pred, BANDS[1:-1])
    return pred, np.maximum(pred + model.lo[band], 0.0), pred + model.hi[band]


LIFE_Z = 1.2816  # the range of a trend's time to its limit: a 10-90 % interval of the slope


def trend_life(s0: float, s_t: float, s_tt: float, s_x: float, s_tx: float, s_xx: float,
               limit: float, sign: float, z: float = LIFE_Z) -> dict[str, float] | None:
    """A prediction incident's `remaining_life` {days, lo, hi} from the rule's trend: the
    weighted least-squares sums a trend predicate keeps (rules/kernels/predicates.trend_fit,
    origin at the newest sample, time in days), its limit and direction (sign +1: rising to
    it). days = gap / slope; lo and hi use the slope plus and minus z standard errors (hi is
    inf when the slower slope would never reach the limit). None when no line fits or the
    trend heads away from the limit."""
    den = s0 * s_tt - s_t * s_t
    if s0 <= 2.0 or not den > 1e-12 * s0 * s0:
        return None
    ctt = den / s0
    slope = (s0 * s_tx - s_t * s_x) / den
    now = (s_x - slope * s_t) / s0
    gap = sign * (limit - now)
    rate = sign * slope
    if gap <= 0.0:
        return {"days": 0.0, "lo": 0.0, "hi": 0.0}
    if rate <= 0.0:
        return None
    rss = max(s_xx - s_x * s_x / s0 - slope * slope * ctt, 0.0)
    se = float(np.sqrt(rss / (s0 - 2.0) / ctt))
    slow = rate - z * se
    return {"days": round(gap / rate, 1), "lo": round(gap / (rate + z * se), 1),
            "hi": round(gap / slow, 1) if slow > 0.0 else float("inf")}


def life_text(days: float, lo: float, hi: float) -> str:
    """How an incident says its remaining life: "about 6 days left (3-10)"; "(at least 3)"
    when the slower slope never reaches the limit; "less than a day left" near it."""
    if days < 1.0:
        return "less than a day left"
    n = max(1, round(days))
    low = min(n, max(0, math.floor(lo)))
    if not math.isfinite(hi):
        return f"about {n} days left (at least {low})"
    return f"about {n} days left ({low}-{max(n, math.ceil(hi))})"
