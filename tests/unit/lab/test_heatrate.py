"""fixahead.lab.heatrate: the element's rate read from the tank while it heats."""

from __future__ import annotations

import numpy as np

from fixahead.lab.heatrate import STEP_MS, first_slow, heating_rises


def test_only_rises_between_two_heating_samples_count() -> None:
    ts = np.arange(6, dtype=np.int64) * STEP_MS
    temp = np.array([50.0, 50.0, 50.5, 51.0, 40.0, 39.9])  # a draw after the heat-up
    current = np.array([0.0, 8.7, 8.7, 8.7, 0.0, 0.0])
    t, rise = heating_rises(ts, temp, current)
    np.testing.assert_array_equal(t, [2 * STEP_MS, 3 * STEP_MS])
    np.testing.assert_allclose(rise, [0.25, 0.25])


def test_a_sample_gap_breaks_the_pair() -> None:
    ts = np.array([0, STEP_MS, 3 * STEP_MS], dtype=np.int64)
    t, _ = heating_rises(ts, np.array([50.0, 50.5, 51.5]), np.full(3, 8.7))
    np.testing.assert_array_equal(t, [STEP_MS])


def test_slow_is_judged_at_heat_up_ends_on_the_window_median() -> None:
    day = 86_400_000
    fast = np.arange(0, 40 * STEP_MS, STEP_MS, dtype=np.int64)  # one heat-up, 40 rises
    slow = fast + 2 * day
    t = np.concatenate([fast, slow])
    rise = np.concatenate([np.full(40, 0.24), np.full(40, 0.15)])
    rise[5] = -3.0  # a draw while heating: one rise, the median does not follow it
    assert first_slow(t, rise, 0.18, day, 40) == int(slow[-1])
    assert first_slow(t, rise, 0.18, day, 41) is None  # too few rises in a day
    assert first_slow(t[:40], rise[:40], 0.18, day, 20) is None
