"""The batch-order check against an obvious reference, over random batches."""

from __future__ import annotations

import numpy as np
import pytest

from rules.kernels.order import device_time_ordered


def reference(ts: np.ndarray, device: np.ndarray, slot_of: np.ndarray) -> bool:
    last: dict[int, int] = {}
    for t, d in zip(ts.tolist(), device.tolist(), strict=True):
        s = int(slot_of[d]) if 0 <= d < len(slot_of) else 0
        if t < last.get(s, t):
            return False
        last[s] = t
    return True


@pytest.mark.parametrize("seed", range(6))
def test_the_order_check_agrees_with_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    slot_of = np.concatenate([[0], rng.permutation(np.arange(1, 60))]).astype(np.int32)
    slot_of[rng.integers(1, 60, 5)] = 0  # some unassigned devices share slot 0
    for _ in range(400):
        n = int(rng.integers(0, 80))
        device = rng.integers(-2, 70, n).astype(np.int32)  # some keys outside the table
        if rng.random() < 0.5:  # runs of one device, in order per device: often ordered
            device = np.sort(device)
            ts = np.concatenate([np.sort(rng.integers(0, 50, (device == d).sum()))
                                 for d in np.unique(device)]).astype(np.int64) if n else \
                np.zeros(0, np.int64)
        else:
            ts = rng.integers(0, 50, n).astype(np.int64)
        assert device_time_ordered(ts, device, slot_of) == reference(ts, device, slot_of)
