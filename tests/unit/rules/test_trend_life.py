"""`remaining_life` of a prediction incident from its rule's trend (rules/remaining_life.py)."""

from __future__ import annotations

import math

import numpy as np

from rules.kernels.predicates import trend_days, trend_fit
from rules.remaining_life import trend_life


def _sums(xs: np.ndarray, tau: float = 7.0) -> tuple[float, ...]:
    s = (0.0,) * 6
    for i, x in enumerate(xs):
        dt = 0.0 if i == 0 else 1.0
        s = trend_fit(dt, math.exp(-dt / tau), *s, float(x))
    return s


def test_the_estimate_matches_the_predicate_and_its_range_brackets_it() -> None:
    xs = 100.0 + 10.0 * np.arange(20) + np.random.default_rng(0).normal(0, 5, 20)
    s = _sums(xs)
    life = trend_life(*s, limit=400.0, sign=1.0)
    assert life is not None
    assert abs(life["days"] - trend_days(*s, 400.0, 1.0, 0.0, 0.0)) < 0.1
    assert life["lo"] < life["days"] < life["hi"] < math.inf
    assert 8.0 < life["days"] < 14.0  # 190 left at about 10 a day


def test_a_noisier_trend_gets_a_wider_range() -> None:
    rng = np.random.default_rng(1)
    base = 100.0 + 10.0 * np.arange(20)
    quiet = trend_life(*_sums(base + rng.normal(0, 2, 20)), limit=400.0, sign=1.0)
    noisy = trend_life(*_sums(base + rng.normal(0, 30, 20)), limit=400.0, sign=1.0)
    assert quiet is not None and noisy is not None
    assert noisy["hi"] - noisy["lo"] > quiet["hi"] - quiet["lo"]


def test_no_estimate_for_a_trend_heading_away_and_zero_past_the_limit() -> None:
    falling = _sums(100.0 - np.arange(20.0))
    assert trend_life(*falling, limit=400.0, sign=1.0) is None
    assert trend_life(*_sums(500.0 + np.arange(20.0)), limit=400.0, sign=1.0)["days"] == 0.0
