"""Sensor faults on a device's samples: spikes, a stuck value, dropouts. Pure."""

from __future__ import annotations

import numpy as np

from simulator.faults import Fault

SPIKE_SHARE = 0.05


def apply_sensor_faults(faults: list[Fault], ids: dict[str, int], ts: np.ndarray,
                        metric: np.ndarray, value: np.ndarray, rng: np.random.Generator
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples as a faulty sensor reports them (a new array when anything changes)."""
    for f in faults:
        if f.kind != "sensor" or f.metric not in ids:
            continue
        end = f.end_ms if f.end_ms is not None else 2**62
        hit = (metric == ids[f.metric]) & (ts >= f.onset_ms) & (ts < end)
        if not hit.any():
            continue
        if f.mechanism == "dropout":
            keep = ~hit
            ts, metric, value = ts[keep], metric[keep], value[keep]
            continue
        value = value.copy()
        idx = np.flatnonzero(hit)
        if f.mechanism == "stuck":
            value[idx] = round(float(value[idx[0]]), 1)
        else:
            spikes = idx[rng.random(len(idx)) < SPIKE_SHARE]
            scale = np.maximum(np.abs(value[spikes]), 1.0)
            value[spikes] = value[spikes] + rng.choice([-1, 1], len(spikes)) * scale * 3
    return ts, metric, value
