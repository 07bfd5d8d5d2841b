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


def test_life_text_says_days_and_range() -> None:
    from rules.remaining_life import life_text

    assert life_text(6.2, 3.4, 9.6) == "about 6 days left (3-10)"
    assert life_text(6.0, 3.0, math.inf) == "about 6 days left (at least 3)"
    assert life_text(0.4, 0.1, 2.0) == "less than a day left"


DAY = 86_400_000
T0 = 1_767_225_600_000


def _washer_engine():
    from devices.catalog import load_catalog
    from rules.compiler import compile_rules
    from rules.engine import Engine
    from rules.loader import load_packs

    catalog = load_catalog()
    engine = Engine(compile_rules(load_packs(catalog), catalog), catalog)
    engine.assign([7], ["WM-800"])
    return engine, catalog["WM-800"].metric("drain_time").id


def test_a_trend_prediction_incident_carries_its_remaining_life() -> None:
    """Drain time rising 20 s a day from 100 s towards the 300 s limit: the E21 prediction
    opens with about the days left, a range around them, and the same days in its title."""
    engine, drain = _washer_engine()
    rng = np.random.default_rng(3)
    opened = []
    for day in range(12):
        x = 100.0 + 20.0 * day + rng.normal(0, 3)
        opened += [c.incident for c in engine.process(
            np.array([T0 + day * DAY]), np.array([7]), np.array([drain]), np.array([x]))
            if c.change == "opened" and c.incident.fault == "E21"]
    assert opened, "the trend rule should open E21"
    inc = opened[0]
    assert inc.life is not None
    days_then = (T0 + 10 * DAY - inc.opened_ms) / DAY  # the true crossing: day 10
    assert inc.life.lo <= days_then + 1.0 and inc.life.hi >= days_then - 1.0
    assert inc.life.lo < inc.life.days < inc.life.hi
    assert f"about {max(1, round(inc.life.days))} days" in inc.title
    assert inc.life.at_ms == inc.opened_ms


def test_other_incidents_carry_no_remaining_life() -> None:
    engine, drain = _washer_engine()
    changes = []
    for day in range(12):  # flat drain time: the trend never turns on
        changes += engine.process(np.array([T0 + day * DAY]), np.array([7]),
                                  np.array([drain]), np.array([120.0 + (day % 2)]))
    assert all(c.incident.life is None for c in changes)
