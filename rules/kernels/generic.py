"""The generic detector over many (device, metric) series at once: per series the state of
`rules.kernels.detect`, plus a sustain counter that turns a stretch of high scores into one
on/off pair (the rule engine's evidence for an "anomaly" incident).

Series state k (float64): the detector's col[k] (1, NCOL), u[k] (1,), rr[k], uu[k] (1, 1),
q[k] (NK, 4), glob[k] (NG,), and sus[k] (SUS,): last time (ms), rows high in a row, when that
run started (ms), alarm flag, rows low in a row while alarmed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rules.kernels.detect import detect_rows

LAST, HIGH, SINCE, ALARM, LOW = range(5)
SUS = 5


@njit(cache=True)
def sustain(sus, k, t, s, on_score, min_rows, min_ms):
    """Step series k's sustain state with score s at time t: +1 turned on, -1 off, 0 none."""
    if s >= on_score:
        sus[k, LOW] = 0.0
        if sus[k, HIGH] == 0.0:
            sus[k, SINCE] = t
        sus[k, HIGH] += 1.0
        if (sus[k, ALARM] == 0.0 and sus[k, HIGH] >= min_rows
                and t - sus[k, SINCE] >= min_ms):
            sus[k, ALARM] = 1.0
            return 1
        return 0
    sus[k, HIGH] = 0.0
    if sus[k, ALARM] != 0.0:
        sus[k, LOW] += 1.0
        if sus[k, LOW] >= min_rows:
            sus[k, ALARM] = 0.0
            sus[k, LOW] = 0.0
            return -1
    return 0


@njit(cache=True)
def generic_runs(ts, x, run_start, run_k, col, u, rr, uu, q, glob, sus, on_score, min_rows,
                 min_ms, score, flip):
    """Score runs of rows (series run_k[r] owns rows run_start[r] .. run_start[r + 1] - 1,
    in time order, all after the series' last time); `ts` int64 ms, `x` (n, 1) float64
    (NaN: missing, scores 0 and changes nothing). Writes each row's score and its flip
    (+1 on, -1 off, 0) into `score` and `flip`."""
    for r in range(run_k.shape[0]):
        a, b, k = run_start[r], run_start[r + 1], run_k[r]
        detect_rows(x[a:b], col[k], u[k], rr[k], uu[k], q[k], glob[k], score[a:b])
        for i in range(a, b):
            flip[i] = 0
            if np.isfinite(x[i, 0]):
                flip[i] = sustain(sus, k, float(ts[i]), score[i], on_score, min_rows, min_ms)
        if b > a:
            sus[k, LAST] = float(ts[b - 1])
