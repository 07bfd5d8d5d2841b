"""Offline reading of a water heater's element rate on a planned scenario: the tank's rise per
minute while the element draws current, which scale slows by `1 + 1.5 s` whatever the draws,
set point or household (`simulator/appliances/waterheater.py`). Not a rule: the rule language
has no leaf that reads one metric while another is on; this measures what one would give
(docs/evaluation.md, "W10: the heating CUSUM removed, and what would warn earlier").
"""

from __future__ import annotations

import numpy as np

from simulator.appliances import make_appliance
from simulator.plan import Scenario
from simulator.timebase import DAY_MS, rng_for
from simulator.traffic import STREAM_PHYSICS

STEP_MS = 120_000  # WH-200 samples tank_temp and element_current every 2 minutes


def heating_rises(ts: np.ndarray, temp: np.ndarray, current: np.ndarray,
                  on_amps: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Rises of `temp` (°C) per minute between consecutive samples `STEP_MS` apart with
    `current` (A, sampled at the same `ts`, int64 ms) above `on_amps` at both: (time of the
    later sample, rise) arrays."""
    on = current > on_amps
    both = on[1:] & on[:-1] & (np.diff(ts) == STEP_MS)
    return ts[1:][both], (np.diff(temp) / (STEP_MS / 60_000))[both]


def first_slow(t: np.ndarray, rise: np.ndarray, limit: float, window_ms: int,
               min_rises: int) -> int | None:
    """The first end of a heat-up (its last rise) at which the median rise of the `window_ms`
    before it, counting at least `min_rises`, is under `limit`; None if never."""
    if len(t) == 0:
        return None
    ends = np.append(np.nonzero(np.diff(t) > STEP_MS)[0], len(t) - 1)
    starts = np.searchsorted(t, t[ends] - window_ms)
    for e, a in zip(ends.tolist(), starts.tolist(), strict=True):
        if e - a + 1 >= min_rises and float(np.median(rise[a:e + 1])) < limit:
            return int(t[e])
    return None


def slow_at(scenario: Scenario, device_index: int, limit: float, window_ms: int,
            min_rises: int) -> int | None:
    """`first_slow` over one WH-200 device of `scenario`, simulated a day at a time."""
    device = scenario.devices[device_index]
    model = scenario.models[device.model_id]
    app = make_appliance(device.kind, model, scenario.faults_of(device.device_id),
                         rng_for(scenario.seed, STREAM_PHYSICS, device.index))
    app.presence = (scenario.window.first_day * DAY_MS, scenario.presence[device.household])
    sessions = scenario.sessions[device.device_id]
    parts = []
    t0 = scenario.window.start_ms
    while t0 < scenario.window.end_ms:
        t1 = min(scenario.window.end_ms, t0 + DAY_MS)
        parts.append(app.run(t0, t1, sessions).arrays())
        t0 = t1
    ts = np.concatenate([p[0] for p in parts])
    mid = np.concatenate([p[1] for p in parts])
    val = np.concatenate([p[2] for p in parts])
    temp, cur = mid == app.ids["tank_temp"], mid == app.ids["element_current"]
    if not np.array_equal(ts[temp], ts[cur]):
        raise ValueError("tank_temp and element_current are not sampled together")
    return first_slow(*heating_rises(ts[temp], val[temp], val[cur]), limit, window_ms,
                      min_rises)


def main(argv: list[str]) -> None:
    """`python -m fixahead.lab.heatrate HOUSEHOLDS SEEDS HEALTHY [LIMIT] [MIN_RISES]`: on the
    30 days before 2026-11-22 of each seed, the WH-200 tanks of `fixahead.lab.replay` (all
    faulty ones, HEALTHY healthy ones a seed); "the day's median heating rise is under LIMIT
    (0.18 °C/min)" scored as a W10 warning: caught before W10, median and p10 lead, healthy
    tanks and tanks with another fault flagged."""
    import datetime as dt
    import statistics

    from devices.catalog import load_catalog
    from simulator.plan import plan
    from simulator.timebase import Window

    households, seeds, healthy = int(argv[0]), argv[1], int(argv[2])
    limit = float(argv[3]) if len(argv) > 3 else 0.18
    min_rises = int(argv[4]) if len(argv) > 4 else 40
    end = int(dt.datetime(2026, 11, 22, tzinfo=dt.UTC).timestamp() * 1000)
    slot = 15 * 60_000
    window = Window((end - 30 * DAY_MS) // slot * slot, end)
    catalog = load_catalog()
    lead: list[float | None] = []
    flagged = {"healthy": 0, "other fault": 0}
    tanks = 0
    for seed in seeds.split(","):
        scenario = plan(households, window, int(seed), catalog)
        faulty = {f.device_id for f in scenario.faults}
        left = healthy
        for i, d in enumerate(scenario.devices):
            if d.model_id != "WH-200" or (d.device_id not in faulty and left <= 0):
                continue
            faults = scenario.faults_of(d.device_id)
            left -= not faults
            tanks += not faults
            t = slow_at(scenario, i, limit, DAY_MS, min_rises)
            scale = [f for f in faults if f.code == "W10" and f.kind == "gradual"
                     and f.hard_failure_ms is not None]
            for f in scale:
                ok = t is not None and f.onset_ms <= t < f.hard_failure_ms  # type: ignore[operator]
                lead.append((f.hard_failure_ms - t) / DAY_MS if ok else None)  # type: ignore[operator]
            if t is not None and not scale and not any(f.code == "W10" for f in faults):
                flagged["healthy" if not faults else "other fault"] += 1
    caught = sorted(v for v in lead if v is not None)
    median = f"{statistics.median(caught):.2f}" if caught else "-"
    p10 = f"{float(np.percentile(caught, 10)):.2f}" if caught else "-"
    print(f"W10: {len(caught)} of {len(lead)} before failure, median lead {median} d (p10 {p10} d)")
    print(f"healthy tanks flagged: {flagged['healthy']} of {tanks}; "
          f"tanks with another fault flagged: {flagged['other fault']}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
