"""A fleet's readings as the rule engine takes them, in columns: every catalog model in turn,
values drawn around each metric's typical range (no faults). For the rules benchmark and the
tests of the evaluator and its store, which need the same shape of load."""

from __future__ import annotations

from typing import Any

import numpy as np

SAMPLES = 10  # per message


def layouts() -> dict[str, tuple[list[int], dict[int, tuple[float, float]]]]:
    """Per catalog model: the metric of each of a message's 10 samples (periodic metrics in
    turn, one per-cycle metric last) and each metric's (mean, sd) from its typical range."""
    from devices.catalog import load_catalog

    out = {}
    for model in load_catalog().values():
        periodic = [m.id for m in model.metrics if m.period_s > 0] or [model.metrics[0].id]
        cycle = [m.id for m in model.metrics if m.period_s <= 0] or periodic[:1]
        seq = [periodic[k % len(periodic)] for k in range(SAMPLES - 1)] + [cycle[0]]
        stats = {m.id: ((m.typical[0] + m.typical[1]) / 2, (m.typical[1] - m.typical[0]) / 8)
                 for m in model.metrics}
        out[model.id] = (seq, stats)
    return out


def fleet(devices: int, readings: int, seed: int = 1) -> dict[str, Any]:
    """Synthetic readings of a fleet of every catalog model in turn: `readings // (devices *
    10)` rounds of one 10-sample message per device, devices in random order each round."""
    rng = np.random.default_rng(seed)
    layout = layouts()
    rounds = max(1, readings // (devices * SAMPLES))
    models = np.array(sorted(layout))[np.arange(devices) % len(layout)]
    keys = np.arange(1, devices + 1, dtype=np.int32)
    t0 = 1_767_225_600_000
    order = np.concatenate([rng.permutation(devices) for _ in range(rounds)])
    rnd = np.repeat(np.arange(rounds), devices)
    dev = np.repeat(order, SAMPLES)
    sample = np.tile(np.arange(SAMPLES), rounds * devices)
    ts = t0 + np.repeat(rnd, SAMPLES).astype(np.int64) * 100_000 + sample * 10_000
    metric = np.empty(dev.size, np.int16)
    value = np.empty(dev.size)
    for name, (seq, stats) in layout.items():
        rows = models[dev] == name
        metric[rows] = np.asarray(seq, np.int16)[sample[rows]]
        for mt, (mean, sd) in stats.items():
            sel = rows & (metric == mt)
            value[sel] = rng.normal(mean, sd, int(sel.sum()))
    return {"ts": ts, "device": keys[dev], "metric": metric, "value": value,
            "keys": keys, "models": models.tolist(), "rounds": rounds}
