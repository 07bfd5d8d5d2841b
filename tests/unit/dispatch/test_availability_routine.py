"""The household-routine classifier on hand-built households, and how the pick reads it."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from dispatch.availability import predict
from dispatch.availability_features import day_grid
from dispatch.availability_pick import best_window
from dispatch.availability_routine import HOMEBODY, KINDS, SUMMARY_NAMES, kind_posterior, summary
from dispatch.availability_routine_coef import COEF, N_FEATURES
from tests.support.availability import NOW, events, nine_to_five, retiree


def posterior(ts: list[int], weeks: int) -> np.ndarray:
    start = int((NOW - timedelta(weeks=weeks)).timestamp())
    arr = np.asarray(ts, dtype=np.int64)
    grid = day_grid(arr, tz="UTC", now=NOW, start_s=start)
    x = summary(grid, arr, tz="UTC", start_s=start, now_s=int(NOW.timestamp()))
    assert x.shape == (len(SUMMARY_NAMES),) and np.isfinite(x).all()
    return kind_posterior(x, np.asarray(COEF))


def test_the_coefficients_match_the_summaries() -> None:
    assert len(SUMMARY_NAMES) == N_FEATURES
    assert np.asarray(COEF).shape == (len(SUMMARY_NAMES) + 1, len(KINDS))


@pytest.mark.parametrize("weeks", [1, 2, 4])
def test_a_retiree_reads_as_home_all_day_and_a_nine_to_five_worker_does_not(weeks: int) -> None:
    home_all_day = posterior(events(weeks, retiree), weeks)
    worker = posterior(events(weeks, nine_to_five), weeks)
    assert home_all_day.sum() == pytest.approx(1.0) and worker.sum() == pytest.approx(1.0)
    assert home_all_day[HOMEBODY] > 0.5
    assert worker[HOMEBODY] < 0.1
    assert worker[KINDS.index("one_person")] > worker[HOMEBODY]


def test_a_household_without_whole_days_of_events_gets_a_finite_posterior() -> None:
    p = posterior([int((NOW - timedelta(hours=3)).timestamp())], 1)
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0)


def test_the_prediction_carries_the_homebody_posterior() -> None:
    a = predict(events(2, retiree), tz="UTC", now=NOW, consent=True,
                observed_since=NOW - timedelta(weeks=2))
    b = predict(events(2, nine_to_five), tz="UTC", now=NOW, consent=True,
                observed_since=NOW - timedelta(weeks=2))
    assert a.homebody > 0.5 > 0.1 > b.homebody
    assert predict([], tz="UTC", now=NOW, consent=True).homebody == 0.0
    assert predict(events(2, retiree), tz="UTC", now=NOW, consent=False).homebody == 0.0


def test_a_homebody_needs_a_clearer_gain_to_leave_the_first_window() -> None:
    p = np.array([0.6, 0.66, 0.5])
    assert best_window(p, days=28) == 1  # 0.06 over the first: enough with four weeks
    assert best_window(p, days=28, homebody=0.5) == 0  # needs 0.03 + 0.1 * 0.5
    assert best_window(np.array([0.3, 0.8, 0.5]), days=28, homebody=1.0) == 1

