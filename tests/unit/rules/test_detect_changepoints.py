"""Changepoints of the generic detector (rules/kernels/changepoint.py) on synthetic rows."""

from __future__ import annotations

import numpy as np

from rules.detect import changepoints, score_rows


def _rows(seed: int, n: int = 2000) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, (n, 3))


def test_noise_has_no_changepoint() -> None:
    x = _rows(0)
    assert not changepoints(x, score_rows(x)).any()


def test_an_abnormal_stretch_has_a_changepoint_at_each_end() -> None:
    x = _rows(1)
    x[1000:1400] += 6.0
    events = np.flatnonzero(changepoints(x, score_rows(x)))
    assert any(1000 <= e < 1030 for e in events), events
    assert any(1400 <= e < 1460 for e in events), events
    assert all(e >= 1000 for e in events), events


def test_missing_rows_change_nothing() -> None:
    x = _rows(2)
    x[1000:1400] += 6.0
    gappy = x.copy()
    gappy[[300, 700, 1200]] = np.nan
    s = score_rows(gappy)
    keep = ~np.isnan(gappy[:, 0])
    assert (changepoints(gappy, s)[keep] == changepoints(x[keep], s[keep])).all()
    assert not changepoints(gappy, s)[~keep].any()
