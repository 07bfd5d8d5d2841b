"""Every predicate kernel agrees with its slow reference over awkward inputs."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from rules.kernels import predicates as P
from rules.kernels.series import run_series
from tests.support import naive

MIN = 60_000


def _series(name: str, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 120
    ts = 1_700_000_000_000 + np.arange(n, dtype=np.int64) * MIN
    x = 5.0 + rng.normal(0, 1, n)
    if name == "fixed":
        x = np.array([5.0, 5.1, 4.9, 5.0, 9.0, 9.5, 9.2, 5.0, 4.8, 5.2] * 12)
    elif name == "nan":
        x[rng.choice(n, 15, replace=False)] = np.nan
    elif name == "gap":
        ts[40:] += 3 * 86_400_000
        ts[90:] += 11 * MIN * 60
    elif name == "constant":
        x[:] = 3.25
    elif name == "out_of_order":
        for i in rng.choice(np.arange(5, n), 12, replace=False):
            ts[i] = ts[i] - rng.integers(0, 4) * MIN
    elif name == "drift":
        x += np.linspace(0, 20, n)
    return ts, x


CASES = ["fixed", "random", "nan", "gap", "constant", "out_of_order", "drift"]


def _kernel(kind, ts, x, *params):
    prm = np.zeros(8)
    prm[:len(params)] = params
    return run_series(kind, ts, x, prm, P.state_size(kind, prm))


def _same(got, want) -> None:
    assert_array_equal(got[0], want[0])
    assert_allclose(got[1], want[1], rtol=1e-7, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("case", CASES)
def test_threshold_kernel_matches_reference(case: str) -> None:
    ts, x = _series(case)
    for on, off, min_ms, sign in [(6.0, 5.5, 0, 1), (7.0, 6.0, 2 * MIN, 1), (4.0, 4.5, MIN, -1)]:
        _same(_kernel(P.THRESHOLD, ts, x, on, off, min_ms, sign),
              naive.threshold(ts, x, on, off, min_ms, sign))


@pytest.mark.parametrize("case", CASES)
def test_rate_kernel_matches_reference(case: str) -> None:
    ts, x = _series(case)
    for limit, clear, sign, span in [(0.02, 0.01, 0, 0), (0.01, 0.0, 1, 0),
                                     (0.01, 0.005, -1, 0), (0.005, 0.001, 0, 3 * MIN)]:
        _same(_kernel(P.RATE, ts, x, limit, clear, sign, span),
              naive.rate(ts, x, limit, clear, sign, span))


@pytest.mark.parametrize("case", CASES)
def test_ewma_z_kernel_matches_reference(case: str) -> None:
    ts, x = _series(case)
    for alpha, on, off, sign, min_n in [(0.1, 2.5, 1.5, 0, 5), (0.3, 2.0, 1.0, 1, 1)]:
        _same(_kernel(P.EWMA_Z, ts, x, alpha, on, off, sign, min_n),
              naive.ewma_z(ts, x, alpha, on, off, sign, min_n))


@pytest.mark.parametrize("case", CASES)
def test_robust_z_kernel_matches_reference(case: str) -> None:
    ts, x = _series(case)
    for w, on, off, sign, min_n in [(15, 3.0, 2.0, 0, 5), (8, 2.0, 1.0, -1, 8)]:
        _same(_kernel(P.ROBUST_Z, ts, x, w, on, off, sign, min_n),
              naive.robust_z(ts, x, w, on, off, sign, min_n))


@pytest.mark.parametrize("case", CASES)
def test_cusum_kernel_matches_reference(case: str) -> None:
    ts, x = _series(case)
    for k, h, h_off, sign, warmup in [(0.5, 5.0, 2.0, 0, 20), (0.25, 4.0, 1.0, 1, 10)]:
        _same(_kernel(P.CUSUM, ts, x, k, h, h_off, sign, warmup),
              naive.cusum(ts, x, k, h, h_off, sign, warmup))


@pytest.mark.parametrize("case", CASES)
def test_trend_kernel_matches_reference(case: str) -> None:
    ts, x = _series(case)
    for limit, horizon, tau, sign, min_n, min_t, span in [(30.0, 1.0, 0.05, 1, 10, 0.0, 0.0),
                                                          (0.0, 2.0, 1.0, -1, 3, 0.0, 0.0),
                                                          (30.0, 3.0, 0.5, 1, 5, 3.0, 0.02)]:
        got = _kernel(P.TREND, ts, x, limit, horizon, tau, sign, min_n, min_t, span)
        want = naive.trend(ts, x, limit, horizon, tau, sign, min_n, min_t, span)
        assert_array_equal(got[0], want[0])
        assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("case", CASES)
def test_stuck_kernel_matches_reference(case: str) -> None:
    ts, x = _series(case)
    for eps, min_ms, count in [(0.5, 3 * MIN, 3), (1e-9, 10 * MIN, 5), (2.0, 0, 2)]:
        _same(_kernel(P.STUCK, ts, x, eps, min_ms, count), naive.stuck(ts, x, eps, min_ms, count))


def test_error_count_kernel_matches_reference() -> None:
    rng = np.random.default_rng(3)
    times = np.sort(rng.integers(0, 50 * MIN, 40)).astype(float)
    for count, window in [(3, 5 * MIN), (1, MIN), (5, 30 * MIN)]:
        prm = np.zeros((1, 8))
        prm[0, :2] = count, window
        size = P.state_size(P.ERROR_COUNT, prm[0])
        st = np.zeros((1, size))
        P.init_pred(st, 0, 0, P.ERROR_COUNT, size)
        for i, t in enumerate(times):
            P.check_error_count(st, 0, 0, t, prm, 0, True)
            assert bool(st[0, 0]) == naive.error_count(times[:i + 1], t, count, window)
            later = t + rng.integers(0, 10 * MIN)
            P.check_error_count(st, 0, 0, later, prm, 0, False)
            assert bool(st[0, 0]) == naive.error_count(times[:i + 1], later, count, window)


def test_trend_predicts_days_until_a_linear_drift_reaches_its_limit() -> None:
    day = 86_400_000
    ts = np.arange(20, dtype=np.int64) * day
    x = 60.0 + 5.0 * np.arange(20)  # 5 s/day, at 155 on day 19; limit 185 is 6 days away
    active, score = _kernel(P.TREND, ts, x, 185.0, 7.0, 10.0, 1, 5, 3.0, 1.0)
    assert score[-1] == pytest.approx(6.0)
    assert active[-1] == 1


def _gated_series(case: str, seed: int = 11) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A tank heated in bursts: the metric (mid 1) rises while the gate (mid 0) is on, both
    sampled every 2 minutes in either order, with the awkward inputs of `_series`."""
    rng = np.random.default_rng(seed)
    n = 300
    t = 1_700_000_000_000 + np.arange(n, dtype=np.int64) * 2 * MIN
    on = (np.arange(n) // 12) % 3 == 0
    temp = 50.0 + np.cumsum(np.where(on, 0.4, -0.05)) + rng.normal(0, 0.1, n)
    cur = np.where(on, 8.5, 0.0) + rng.normal(0, 0.2, n)
    first = rng.random(n) < 0.5 if case == "either_order" else np.zeros(n, bool)
    ts = np.repeat(t, 2)
    mid = np.where(np.repeat(first, 2), [0, 1] * n, [1, 0] * n).astype(np.int16)
    x = np.where(mid == 1, np.repeat(temp, 2), np.repeat(cur, 2))
    if case == "nan":
        x[rng.choice(2 * n, 40, replace=False)] = np.nan
    elif case == "gap":
        ts[200:] += 3 * 86_400_000
    elif case == "out_of_order":
        for i in rng.choice(np.arange(10, 2 * n), 30, replace=False):
            ts[i] = ts[i] - rng.integers(0, 4) * MIN
    elif case == "random":
        x = np.where(mid == 1, rng.normal(50, 5, 2 * n), rng.choice([0.0, 9.0], 2 * n))
    return ts, mid, x


@pytest.mark.parametrize("case", ["fixed", "either_order", "nan", "gap", "out_of_order",
                                  "random"])
def test_rate_while_kernel_matches_reference(case: str) -> None:
    from rules.kernels.series import run_gated_series

    ts, mid, x = _gated_series(case)
    for limit, clear, sign, window, min_n, ring, level in [
            (0.4 / 120, 0.45 / 120, -1, 86_400_000, 10, 64, 4.0),
            (0.1 / 120, 0.05 / 120, 1, 3_600_000, 3, 16, 4.0),
            (0.35 / 120, 0.35 / 120, -1, 6 * 3_600_000, 1, 5, 0.5),
            (0.0, 0.0, 1, 30 * MIN, 4, 256, 8.0)]:
        prm = np.array([sign * limit, sign * clear, sign, window, min_n, ring, level, 0.0])
        got = run_gated_series(P.RATE_WHILE, ts, mid, x, prm, P.state_size(P.RATE_WHILE, prm))
        want = naive.rate_while(ts, mid, x, limit, clear, sign, window, min_n, ring, level)
        _same(got, want)
        assert got[0].any() or case == "random" or sign > 0
