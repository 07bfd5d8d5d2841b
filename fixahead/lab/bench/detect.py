"""`fixahead bench detect --data DIR`: the generic detector on SKAB's labelled pump runs.

Each run is streamed through the detector from its first row (it learns online; its first
DETECT_WARMUP = 400 rows are the warm-up, scored 0; SKAB's leaderboard methods likewise fit on
each run's first 400 rows, anomaly-free by design). Outlier F1 per row over all
runs (SKAB's own evaluation), the NAB changepoint score (alarm onsets against the labelled
changepoints, 60-row windows to the right, SKAB's setting), and the cost per row. Baselines
in the same run: a windowed Gaussian z-score per sensor, and the previous `detect` per
sensor taking the highest score per row; both are scored at 0.5 and at their best threshold
(an oracle figure: a threshold picked on the labels themselves).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from fixahead.lab.bench.common import result
from fixahead.lab.bench.detect_legacy import legacy_scores
from fixahead.lab.bench.scoring import (
    f1,
    f1_counts,
    missed_and_false,
    nab_scores,
    predicted_changepoints,
)
from rules.config import DETECT_WARMUP
from rules.detect import changepoints, score_rows

NAB_WINDOW_S = 60.0  # seconds to the right of each true changepoint (SKAB's leaderboard)
TRAIN_ROWS = 400  # SKAB's train_test_split(train_size=400): later rows are scored
ZWINDOW = 120  # rows of the windowed z-score baseline
THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
QUICK_FILES = 3


class Run(NamedTuple):
    """One SKAB run: sensors (n, d), anomaly and changepoint labels, times in seconds."""

    x: np.ndarray
    anomaly: np.ndarray
    changepoint: np.ndarray
    seconds: np.ndarray


def load_run(path: Path) -> Run:
    """One SKAB run from its `;`-separated CSV (first column `datetime`)."""
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    header = lines[0].split(";")
    cells = [ln.split(";") for ln in lines[1:]]
    rows = np.array([[float(v) for v in c[1:]] for c in cells])
    seconds = np.array([datetime.fromisoformat(c[0]).timestamp() for c in cells])
    ia, ic = header.index("anomaly") - 1, header.index("changepoint") - 1
    sensors = np.delete(rows, [ia, ic], axis=1)
    return Run(sensors, rows[:, ia] > 0.5, rows[:, ic] > 0.5, seconds)


def runs(data: Path, quick: bool) -> list[Path]:
    """The labelled runs under data (valve1, valve2, other), a few in quick mode."""
    files = sorted(p for sub in ("valve1", "valve2", "other") for p in (data / sub).glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"no SKAB runs (valve1/, valve2/, other/*.csv) under {data}")
    return files[:QUICK_FILES] if quick else files


def zscore_scores(x: np.ndarray, window: int = ZWINDOW) -> np.ndarray:
    """Windowed Gaussian baseline: 1 - two-sided p of each sensor's z against the previous
    `window` rows, highest over sensors (Bonferroni over sensors)."""
    from math import erfc, sqrt

    n, d = x.shape
    out = np.zeros(n)
    for t in range(window, n):
        past = x[t - window:t]
        z = np.abs(x[t] - past.mean(0)) / np.maximum(past.std(0), 1e-12)
        p = min(1.0, d * min(erfc(v / sqrt(2.0)) for v in z))
        out[t] = 1.0 - p
    return out


def _evaluate(scores: list[np.ndarray], data: list[Run],
              events: list[np.ndarray] | None = None) -> dict[str, Any]:
    """F1 and NAB at each threshold on the scored rows (after the first TRAIN_ROWS); the
    predicted changepoints are the alarm series' transitions (SKAB's `abs(p.diff())`), or,
    when given, a detector's own changepoint events (row indices)."""
    def at(th: float) -> dict[str, Any]:
        tp = fp = fn = 0
        pairs = []
        for i, (s, r) in enumerate(zip(scores, data, strict=True)):
            alarms = s[TRAIN_ROWS:] >= th
            a, b, c = f1_counts(r.anomaly[TRAIN_ROWS:], alarms)
            tp, fp, fn = tp + a, fp + b, fn + c
            t = r.seconds[TRAIN_ROWS:]
            rows = predicted_changepoints(alarms) if events is None else \
                np.asarray(events[i], np.int64)[events[i] >= TRAIN_ROWS] - TRAIN_ROWS
            pairs.append((t[r.changepoint[TRAIN_ROWS:]].tolist(), t[rows].tolist()))
        missed, false = missed_and_false(pairs, NAB_WINDOW_S)
        return {"threshold": th, "f1": round(f1(tp, fp, fn), 4),
                "precision": round(tp / max(tp + fp, 1), 4),
                "recall": round(tp / max(tp + fn, 1), 4),
                "nab": nab_scores(pairs, NAB_WINDOW_S), "missed_changepoints": missed,
                "false_changepoints": false,
                "predicted_changepoints": sum(len(p) for _, p in pairs)}

    sweep = [at(th) for th in THRESHOLDS]
    best = max(sweep, key=lambda r: r["f1"])
    return {"at_0_5": at(0.5), "best_f1_threshold": best,
            "best_nab_standard": max(sweep, key=lambda r: r["nab"]["standard"])}


def _changepoint_events(scores: list[np.ndarray], data: list[Run],
                        events: list[np.ndarray]) -> dict[str, Any]:
    """NAB of the detector's own changepoint events (not of its alarm transitions)."""
    r = _evaluate(scores, data, events)["at_0_5"]
    return {k: r[k] for k in ("nab", "missed_changepoints", "false_changepoints",
                              "predicted_changepoints")}


def metronome(data: list[Run], every: int) -> dict[str, Any]:
    """A changepoint every `every` rows, blind to the data: what the NAB score gives for
    sheer volume (SKAB's 60 s windows cover about a third of its scored rows)."""
    events = [np.arange(TRAIN_ROWS, len(r.x), every) for r in data]
    return _changepoint_events([np.zeros(len(r.x)) for r in data], data, events)


def _timed(fn: Any, xs: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    fn(xs[0][:50])  # compile outside the clock
    t0 = time.perf_counter()
    out = [fn(x) for x in xs]
    rows = sum(x.shape[0] for x in xs)
    return out, (time.perf_counter() - t0) / rows * 1e9


def run(settings: Any = None, *, quick: bool = False, data: Path | None = None) -> dict[str, Any]:
    """Run the benchmark on SKAB under `data` and return the standard result."""
    if data is None:
        raise ValueError("bench detect needs --data DIR (SKAB's data folder)")
    files = runs(Path(data), quick)
    loaded = [load_run(p) for p in files]
    xs = [r.x for r in loaded]
    ours, ns_ours = _timed(score_rows, xs)
    legacy, ns_legacy = _timed(
        lambda x: np.max([legacy_scores(x[:, j]) for j in range(x.shape[1])], axis=0), xs)
    zs, ns_z = _timed(zscore_scores, xs)
    t0 = time.perf_counter()
    events = [np.flatnonzero(changepoints(r.x, s)) for r, s in zip(loaded, ours, strict=True)]
    ns_cp = (time.perf_counter() - t0) / sum(len(r.x) for r in loaded) * 1e9
    metrics = {"detector": _evaluate(ours, loaded),
               "detector_changepoints": _changepoint_events(ours, loaded, events),
               "ns_per_row": round(ns_ours, 1), "changepoints_ns_per_row": round(ns_cp, 1),
               "normal_rows_scoring_0_5_or_more": round(float(np.mean(np.concatenate(
                   [s[TRAIN_ROWS:][~r.anomaly[TRAIN_ROWS:]] >= 0.5
                    for s, r in zip(ours, loaded, strict=True)]))), 4)}
    baselines = {"zscore_window": {**_evaluate(zs, loaded), "ns_per_row": round(ns_z, 1)},
                 "previous_detect": {**_evaluate(legacy, loaded),
                                     "ns_per_row": round(ns_legacy, 1)},
                 **{f"metronome_{k}_rows": metronome(loaded, k) for k in (60, 120, 240)}}
    ours_f1 = metrics["detector"]["at_0_5"]["f1"]
    ratios = {f"f1_vs_{k}_best": round(ours_f1 / max(v["best_f1_threshold"]["f1"], 1e-9), 3)
              for k, v in baselines.items() if "best_f1_threshold" in v}
    config = {"data": str(data), "runs": len(files), "rows": int(sum(len(r.x) for r in loaded)),
              "quick": quick, "nab_window_seconds": NAB_WINDOW_S, "scored_from_row": TRAIN_ROWS,
              "zscore_window_rows": ZWINDOW,
              "threshold": 0.5,
              "training": f"none: online from each run's first row; its first {DETECT_WARMUP} "
                          "rows are the detector's warm-up (score 0, learnt from)",
              "targets": {"f1": 0.70, "nab_standard": 30}}
    return result("detect", metrics, baselines, ratios, config)
