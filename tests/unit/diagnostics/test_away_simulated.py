"""Away detection against the simulator's ground truth: its households' vacations."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from dispatch.away import detect
from simulator.timebase import DAY_MS
from tests.support.simulation import scenario

USAGE_KINDS = {"washer", "dryer", "dishwasher", "fridge", "waterheater"}  # emit usage states


def test_detected_absences_agree_with_the_simulated_vacations() -> None:
    sc = scenario(households=40, days=45, seed=11, fault_rate=0)
    start = sc.window.start_ms
    tp = fp = fn = 0
    late = []
    for hh in sc.fleet.households:
        devices = [d for d in sc.fleet.devices_of(hh.id) if d.kind in USAGE_KINDS]
        times = np.sort(np.concatenate([sc.sessions[d.device_id].start_ms // 1000
                                        for d in devices]))
        for t_ms in range(start + 14 * DAY_MS, sc.window.end_ms, DAY_MS // 2):
            truth = hh.vacation is not None and hh.vacation[0] <= t_ms // DAY_MS < hh.vacation[1]
            v = detect(times[times <= t_ms // 1000], now=datetime.fromtimestamp(t_ms / 1000, UTC))
            tp += v.away and truth
            fp += v.away and not truth
            fn += truth and not v.away
            if v.away and truth and v.likely_return is not None and hh.vacation is not None:
                late.append(v.likely_return.timestamp() * 1000 >= hh.vacation[1] * DAY_MS)
    assert tp + fn > 20, "the scenario should hold some vacations"
    assert tp / (tp + fp) >= 0.85  # precision
    assert tp / (tp + fn) >= 0.7  # recall (the first ~30 h of an absence cannot be seen)
    assert np.mean(late) >= 0.6  # visits after the likely return mostly come after the real one
