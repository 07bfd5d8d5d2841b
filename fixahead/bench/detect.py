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
from pathlib import Path
from typing import Any

import numpy as np

from fixahead.bench.common import result
from fixahead.bench.detect_legacy import legacy_scores
from fixahead.bench.scoring import alarm_onsets, f1, f1_counts, nab_scores
from rules.config import DETECT_WARMUP
from rules.detect import score_rows

NAB_WINDOW = 60  # rows (seconds at SKAB's 1 s sampling)
ZWINDOW = 120  # rows of the windowed z-score baseline
THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
QUICK_FILES = 3


def load_run(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sensors (n, d), anomaly labels, changepoint labels) of one SKAB run."""
    lines = path.read_text().splitlines()
    header = lines[0].split(";")
    rows = np.array([[float(v) for v in ln.split(";")[1:]] for ln in lines[1:] if ln.strip()])
    ia, ic = header.index("anomaly") - 1, header.index("changepoint") - 1
    sensors = np.delete(rows, [ia, ic], axis=1)
    return sensors, rows[:, ia] > 0.5, rows[:, ic] > 0.5


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


def _evaluate(scores: list[np.ndarray], labels: list[np.ndarray],
              cps: list[np.ndarray]) -> dict[str, Any]:
    def at(th: float) -> dict[str, Any]:
        tp = fp = fn = 0
        pairs = []
        for s, lab, cp in zip(scores, labels, cps, strict=True):
            a, b, c = f1_counts(lab, s >= th)
            tp, fp, fn = tp + a, fp + b, fn + c
            pairs.append((np.flatnonzero(cp).tolist(), alarm_onsets(s >= th).tolist()))
        return {"threshold": th, "f1": round(f1(tp, fp, fn), 4),
                "precision": round(tp / max(tp + fp, 1), 4),
                "recall": round(tp / max(tp + fn, 1), 4),
                "nab": nab_scores(pairs, NAB_WINDOW),
                "alarm_onsets": sum(len(o) for _, o in pairs)}

    sweep = [at(th) for th in THRESHOLDS]
    best = max(sweep, key=lambda r: r["f1"])
    return {"at_0_5": at(0.5), "best_f1_threshold": best,
            "best_nab_standard": max(sweep, key=lambda r: r["nab"]["standard"])}


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
    xs = [x for x, _, _ in loaded]
    labels = [a for _, a, _ in loaded]
    cps = [c for _, _, c in loaded]
    ours, ns_ours = _timed(score_rows, xs)
    legacy, ns_legacy = _timed(
        lambda x: np.max([legacy_scores(x[:, j]) for j in range(x.shape[1])], axis=0), xs)
    zs, ns_z = _timed(zscore_scores, xs)
    metrics = {"detector": _evaluate(ours, labels, cps), "ns_per_row": round(ns_ours, 1),
               "normal_rows_scoring_0_5_or_more": round(float(np.mean(np.concatenate(
                   [s[~lab] >= 0.5 for s, lab in zip(ours, labels, strict=True)]))), 4)}
    baselines = {"zscore_window": {**_evaluate(zs, labels, cps), "ns_per_row": round(ns_z, 1)},
                 "previous_detect": {**_evaluate(legacy, labels, cps),
                                     "ns_per_row": round(ns_legacy, 1)}}
    ours_f1 = metrics["detector"]["at_0_5"]["f1"]
    ratios = {f"f1_vs_{k}_best": round(ours_f1 / max(v["best_f1_threshold"]["f1"], 1e-9), 3)
              for k, v in baselines.items()}
    config = {"data": str(data), "runs": len(files), "rows": int(sum(len(a) for a in labels)),
              "quick": quick, "nab_window_rows": NAB_WINDOW, "zscore_window_rows": ZWINDOW,
              "threshold": 0.5,
              "training": f"none: online from each run's first row; its first {DETECT_WARMUP} "
                          "rows are the detector's warm-up (score 0, learnt from)",
              "targets": {"f1": 0.70, "nab_standard": 30}}
    return result("detect", metrics, baselines, ratios, config)
