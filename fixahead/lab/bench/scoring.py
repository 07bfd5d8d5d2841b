"""Scores of a detector against labels, exactly as SKAB's published evaluation computes them.

Source: github.com/waico/SKAB at commit b2c0d46 (b2c0d46c2971dcbfe71e26087b6d231998bb91c2),
`core/metrics.py` (a copy of the tsad library's evaluation: `chp_score`,
`single_detecting_boundaries`, `extract_cp_confusion_matrix`, `my_scale`,
`single_evaluate_nab`), applied as the leaderboard notebooks do (`notebooks/t2_SKAB.ipynb`):
- each run is split by `train_test_split(train_size=400, shuffle=False)`: only the rows after
  the first 400 are scored (`core/utils.py`, `preprocess_skab`);
- outlier detection: F1 = TP / (TP + (FP + FN) / 2) over all scored rows of all runs;
- the predicted changepoints are derived from the binary alarm series `p` as
  `abs(p.diff())` with the first row set to `p[0]`: every start AND every end of a run of
  alarms is a changepoint (`predicted_changepoints` here);
- every true changepoint t opens the window [t, t + 60 s] ("righter", `window_width="60s"`);
  where a window reaches the next one's start, the right window starts where the left one
  ends ("cut right window"); both ends are inclusive;
- in each window the first predicted changepoint is a true positive scored by `my_scale`:
  A_tp at the window's start falling to A_fp at its end along tanh, sampled on 1,000 points
  (`event = int(position * 1000)`); later ones in the same window count nothing; a window
  with none costs A_fn; each predicted changepoint outside every window costs A_fp;
- profiles (A_tp, A_fp, A_fn): standard (1, -0.11, -1), low FP (1, -0.22, -1), low FN
  (1, -0.11, -2); the raw scores are summed over all runs and normalised
  100 * (S - S_null) / (S_perfect - S_null), S_null = A_fn * windows, S_perfect = A_tp *
  windows, rounded to 2 decimals.
Times are in seconds (any monotone clock); windows are in the same unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# (A_tp, A_fp, A_fn) per profile, as NAB and SKAB define them
PROFILES = {"standard": (1.0, -0.11, -1.0), "low_fp": (1.0, -0.22, -1.0),
            "low_fn": (1.0, -0.11, -2.0)}
DETALIZATION = 1000  # points on which my_scale samples the scoring function


def f1_counts(labels: np.ndarray, alarms: np.ndarray) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of per-row alarms."""
    lab = np.asarray(labels, bool)
    al = np.asarray(alarms, bool)
    return int((lab & al).sum()), int((~lab & al).sum()), int((lab & ~al).sum())


def f1(tp: int, fp: int, fn: int) -> float:
    """F1 from counts (0 when nothing is found)."""
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def alarm_onsets(alarms: np.ndarray) -> np.ndarray:
    """Rows where a run of alarms starts."""
    a = np.asarray(alarms, bool)
    return np.flatnonzero(a & ~np.r_[False, a[:-1]])


def predicted_changepoints(alarms: np.ndarray) -> np.ndarray:
    """Rows SKAB's evaluation takes as predicted changepoints of a binary alarm series:
    `abs(p.diff())`, first row `p[0]`: each start and each end of a run of alarms."""
    a = np.asarray(alarms, bool).astype(np.int8)
    if a.size == 0:
        return np.zeros(0, np.int64)
    cp = np.abs(np.diff(a, prepend=a[:1]))
    cp[0] = a[0]
    return np.flatnonzero(cp)


def windows(changepoints: Sequence[float], width: float) -> list[tuple[float, float]]:
    """Detection windows [t, t + width] of sorted true changepoints, overlaps cut on the
    right window (its start moves to the left window's end), as `single_detecting_boundaries`
    with anomaly_window_destination="righter", intersection_mode="cut right window"."""
    bounds = [[float(t), float(t) + width] for t in changepoints]
    for i in range(len(bounds) - 1):
        if bounds[i][1] >= bounds[i + 1][0]:
            bounds[i + 1][0] = bounds[i][1]
    return [(lo, hi) for lo, hi in bounds]


def my_scale(position: float, a_tp: float, a_fp: float, koef: float = 1.0) -> float:
    """`my_scale`: the score of a first detection at `position` (0 = window start, 1 = end)."""
    event = min(int(position * DETALIZATION), DETALIZATION - 1)
    x = -math.pi / 2 + event * math.pi / (DETALIZATION - 1)
    return ((a_tp - a_fp) / 2 * -math.tanh(koef * x) / math.tanh(math.pi * koef / 2)
            + (a_tp - a_fp) / 2 + a_fp)


def nab_raw(bounds: Sequence[tuple[float, float]], predicted: Sequence[float],
            a_tp: float, a_fp: float, a_fn: float) -> float:
    """One run's NAB score before normalisation (`extract_cp_confusion_matrix` with
    point=0, then `single_evaluate_nab`)."""
    pred = np.sort(np.asarray(predicted, dtype=np.float64))
    if not bounds:
        return a_fp * pred.size
    fps = int((pred < bounds[0][0]).sum()) + int((pred > bounds[-1][1]).sum())
    score = 0.0
    for i, (lo, hi) in enumerate(bounds):
        inside = pred[(pred >= lo) & (pred <= hi)]
        if inside.size == 0:
            score += a_fn
        else:
            position = (inside[0] - lo) / (hi - lo) if hi > lo else 0.0
            score += my_scale(position, a_tp, a_fp)
        if i + 1 < len(bounds):
            fps += int(((pred > hi) & (pred < bounds[i + 1][0])).sum())
    return score + a_fp * fps


def nab_scores(series: Sequence[tuple[Sequence[float], Sequence[float]]],
               window: float) -> dict[str, float]:
    """Normalised NAB score per profile over (true changepoint times, predicted changepoint
    times) pairs, windows of `window` time units to the right of each true changepoint."""
    bounds = [windows(sorted(c), window) for c, _ in series]
    n = sum(len(b) for b in bounds)
    out = {}
    for name, (a_tp, a_fp, a_fn) in PROFILES.items():
        total = sum(nab_raw(b, p, a_tp, a_fp, a_fn)
                    for b, (_, p) in zip(bounds, series, strict=True))
        null, perfect = n * a_fn, n * a_tp
        out[name] = round(100 * (total - null) / (perfect - null), 2) if n else 0.0
    return out


def missed_and_false(series: Sequence[tuple[Sequence[float], Sequence[float]]],
                     window: float) -> tuple[int, int]:
    """(missed true changepoints, predicted changepoints outside every window): the
    leaderboard's "Number of Missed CPs" and "Number of FPs"."""
    missed = false = 0
    for c, p in series:
        b = windows(sorted(c), window)
        pred = np.asarray(p, dtype=np.float64)
        hit = [bool(((pred >= lo) & (pred <= hi)).any()) for lo, hi in b]
        missed += hit.count(False)
        within = np.zeros(pred.size, bool)
        for lo, hi in b:
            within |= (pred >= lo) & (pred <= hi)
        false += int((~within).sum())
    return missed, false
