"""The engine's event clock follows the bulk of a batch, not its most extreme timestamp."""

from __future__ import annotations

import numpy as np

from rules.engine import batch_time

HOUR = 3_600_000


def test_one_device_with_a_clock_hours_ahead_does_not_move_the_clock():
    ts = np.array([10_000, 10_010, 10_020, 10_000 + 6 * HOUR], dtype=np.int64)
    assert batch_time(ts, []) == 10_015


def test_events_count_with_the_readings():
    assert batch_time(np.array([], dtype=np.int64), [5_000, 7_000, 9_000]) == 7_000
    assert batch_time(np.array([1_000], dtype=np.int64), [3_000]) == 2_000
