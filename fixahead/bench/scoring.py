"""Scores of a detector against labels: outlier F1 per row, and the NAB changepoint score.

The NAB score follows the published algorithm as SKAB's evaluation applies it: each true
changepoint opens a window of `window` rows to its right (where two overlap, the right
one starts where the left ends); the first alarm in a window earns A_tp at its start
falling to A_fp at its end along a scaled tanh (a scaled sigmoid); later alarms in the
same window count nothing;
a window with no alarm costs A_fn; each alarm outside every window costs A_fp. The sum over
all series is normalised between the null detector (no alarms: every window missed, 0)
and the perfect one (an alarm at each changepoint, 100).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# (A_tp, A_fp, A_fn) per profile, as NAB and SKAB define them
PROFILES = {"standard": (1.0, -0.11, -1.0), "low_fp": (1.0, -0.22, -1.0),
            "low_fn": (1.0, -0.11, -2.0)}


def f1_counts(labels: np.ndarray, alarms: np.ndarray) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of per-row alarms."""
    lab = np.asarray(labels, bool)
    al = np.asarray(alarms, bool)
    return int((lab & al).sum()), int((~lab & al).sum()), int((lab & ~al).sum())


def f1(tp: int, fp: int, fn: int) -> float:
    """F1 from counts (0 when nothing is found)."""
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def alarm_onsets(alarms: np.ndarray) -> np.ndarray:
    """Rows where a run of alarms starts: the detector's changepoints."""
    a = np.asarray(alarms, bool)
    return np.flatnonzero(a & ~np.r_[False, a[:-1]])


def _tanh_scale(position: float, a_tp: float, a_fp: float) -> float:
    """A_tp at a window's start (position 0) falling to A_fp at its end (position 1)."""
    x = -math.pi / 2 + position * math.pi
    return ((a_tp - a_fp) / 2 * -math.tanh(x) / math.tanh(math.pi / 2)
            + (a_tp - a_fp) / 2 + a_fp)


def nab_raw(changepoints: Sequence[int], onsets: Sequence[int], window: int,
            a_tp: float, a_fp: float, a_fn: float) -> float:
    """NAB score of one series (rows as time), before normalisation."""
    cps = sorted(changepoints)
    bounds: list[tuple[int, int]] = []
    for c in cps:
        start = c if not bounds else max(c, bounds[-1][1])  # overlaps cut the right window
        bounds.append((start, max(start, c + window)))
    score = 0.0
    used = set()
    for t in onsets:
        hit = next((i for i, (lo, hi) in enumerate(bounds) if lo <= t <= hi), None)
        if hit is None:
            score += a_fp
        elif hit not in used:
            used.add(hit)
            lo, hi = bounds[hit]
            score += _tanh_scale((t - lo) / max(hi - lo, 1), a_tp, a_fp)
    score += a_fn * (len(bounds) - len(used))
    return score


def nab_scores(series: Sequence[tuple[Sequence[int], Sequence[int]]],
               window: int) -> dict[str, float]:
    """Normalised NAB score per profile over (true changepoints, alarm onsets) pairs."""
    out = {}
    for name, (a_tp, a_fp, a_fn) in PROFILES.items():
        total = sum(nab_raw(c, o, window, a_tp, a_fp, a_fn) for c, o in series)
        n = sum(len(c) for c, _ in series)
        null, perfect = n * a_fn, n * a_tp
        out[name] = round(100 * (total - null) / (perfect - null), 2) if n else 0.0
    return out
