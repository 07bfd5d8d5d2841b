"""Changepoints of the generic detector: events where the stream changes regime.

The score says how abnormal each row is; changepoints say when that changed. Per row, from
the detector's score and the row's values:
  enter  CUSUM of the calibrated surprise s (recovered from the score): the sum of
         s - DETECT_CP_ENTER_K reaching DETECT_CP_ENTER_H starts an abnormal stretch;
  leave  while abnormal, the sum of DETECT_CP_EXIT_K - s reaching DETECT_CP_EXIT_H ends it;
  shift  a two-sided CUSUM per column of the value against the current segment's level, in
         units of the column's row-to-row noise, re-anchored at each change; while abnormal
         each such change is reported too (a ramp ending, the way back starting).
Each of enter / leave / shift is one changepoint. A row with no value changes nothing.

State (float64): col (d, NCP) per column, glob (NGC,).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rules.config import (
    DETECT_CP_ENTER_H,
    DETECT_CP_ENTER_K,
    DETECT_CP_EXIT_H,
    DETECT_CP_EXIT_K,
    DETECT_CP_REF_ALPHA,
    DETECT_CP_SETTLE,
    DETECT_CP_SHIFT_H,
    DETECT_CP_SHIFT_K,
    DETECT_HALF_S,
    DETECT_SLOPE,
    DETECT_SLOW_ROWS,
    DETECT_WARMUP,
)

PREV, NOISE, LVL, REF, GUP, GDN, SEEN = range(7)
NCP = 7
ABNORMAL, G, ROWS, SINCE = range(4)
NGC = 4
S_MAX = 30.0


@njit(cache=True)
def surprise_of(score):
    """The calibrated surprise behind a score (the inverse of detect.score_of), <= S_MAX."""
    lo = 1.0 / (1.0 + math.exp(DETECT_SLOPE * DETECT_HALF_S))
    hi = min(max(lo + score * (1.0 - lo), 1e-12), 1.0 - 1e-12)
    return min(max(DETECT_HALF_S + math.log(hi / (1.0 - hi)) / DETECT_SLOPE, 0.0), S_MAX)


@njit(cache=True)
def _shift(x, t, col, warm, settle):
    """Feed row t to the per-column level CUSUMs; True when one of them fires."""
    d = x.shape[1]
    fire = False
    for j in range(d):
        v = x[t, j]
        c = col[j]
        if math.isnan(v) or math.isinf(v):
            continue
        if c[SEEN] == 0.0:
            c[PREV] = v
            c[LVL] = v
            c[REF] = v
            c[SEEN] = 1.0
            continue
        c[SEEN] += 1.0
        a = max(1.0 / DETECT_SLOW_ROWS, 1.0 / c[SEEN])
        step = v - c[PREV]
        if not warm or not settle:  # right after a change the steps are not noise
            c[NOISE] += a * (0.5 * step * step - c[NOISE])
        c[PREV] = v
        c[LVL] += DETECT_CP_REF_ALPHA * (v - c[LVL])
        if not warm or settle:
            c[REF] = c[LVL]
        if not warm:
            continue
        z = min(max((v - c[REF]) / math.sqrt(max(c[NOISE], 1e-300)), -50.0), 50.0)
        c[GUP] = max(0.0, c[GUP] + z - DETECT_CP_SHIFT_K)
        c[GDN] = max(0.0, c[GDN] - z - DETECT_CP_SHIFT_K)
        fire = fire or c[GUP] > DETECT_CP_SHIFT_H or c[GDN] > DETECT_CP_SHIFT_H
    return fire


@njit(cache=True)
def changepoint_rows(x, scores, col, glob, out):
    """Flag in out (n,) the rows of x (n, d) that are changepoints, given their scores."""
    n, d = x.shape
    for t in range(n):
        out[t] = False
        m = 0
        for j in range(d):
            m += not (math.isnan(x[t, j]) or math.isinf(x[t, j]))
        if m == 0:
            continue
        warm = glob[ROWS] >= DETECT_WARMUP
        glob[ROWS] += 1.0
        settle = glob[SINCE] < DETECT_CP_SETTLE
        glob[SINCE] += 1.0
        shifted = _shift(x, t, col, warm, settle)
        if shifted:
            glob[SINCE] = 0.0
            for j in range(d):
                col[j, GUP] = 0.0
                col[j, GDN] = 0.0
                if not (math.isnan(x[t, j]) or math.isinf(x[t, j])):
                    col[j, LVL] = x[t, j]
                    col[j, REF] = x[t, j]
        if not warm:
            continue
        s = surprise_of(scores[t])
        if glob[ABNORMAL] == 0.0:
            glob[G] = max(0.0, glob[G] + s - DETECT_CP_ENTER_K)
            if glob[G] >= DETECT_CP_ENTER_H:
                out[t] = True
                glob[ABNORMAL] = 1.0
                glob[G] = 0.0
        else:
            out[t] = shifted
            glob[G] = max(0.0, glob[G] + DETECT_CP_EXIT_K - s)
            if glob[G] >= DETECT_CP_EXIT_H:
                out[t] = True
                glob[ABNORMAL] = 0.0
                glob[G] = 0.0


def new_changepoint_state(d: int) -> tuple[np.ndarray, np.ndarray]:
    """A fresh changepoint state for rows of d columns."""
    return np.zeros((d, NCP)), np.zeros(NGC)
