"""The generic streaming detector: rows of d numeric columns in, one score in [0, 1] per row.

Each row is scored from the state left by the rows before it, then learnt from. Per column:
  fast   z of the value against a fast EWMA level and spread (spikes, jumps);
  slow   z against a slow baseline (mean and spread over about DETECT_SLOW_ROWS rows);
  stuck  a run of exact repeats, against the column's learnt rate of repeats (flat-lines).
Across columns: T^2 of the slow z vector against its learnt correlation (a shift of several
sensors together, or a broken correlation), and T^2 of that vector smoothed by an EWMA
(drift, a modest shift that lasts). Each component's surprise s = -log10(p) is divided by
how much heavier than theory its tail has been (its rate of s > DETECT_TAIL_S), the largest
wins (Bonferroni over components and columns) and the score is a logistic in s, 0.5 at
DETECT_HALF_S. While a row is that surprising the slow state is not learnt from, so an
abnormal stretch stays high; an alarm lasting DETECT_ACCEPT_ROWS becomes the new normal.
A row with no value scores 0 and changes nothing.

State (float64): col (d, NCOL), u (d,), R and U (d, d), q (NK, 3) (tail rate, mean excess,
excesses counted), glob (NG,).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rules.config import (
    DETECT_ACCEPT_ROWS,
    DETECT_CLIP,
    DETECT_COV_PRIOR,
    DETECT_EXCESS_CAP,
    DETECT_EXCESS_CAP_T2,
    DETECT_EXCESS_MEMORY,
    DETECT_FAST_ALPHA,
    DETECT_FAST_VAR_ALPHA,
    DETECT_GATE_S,
    DETECT_HALF_S,
    DETECT_RIDGE,
    DETECT_SLOPE,
    DETECT_SLOW_ROWS,
    DETECT_SMOOTH,
    DETECT_STUCK_MIN_RATE,
    DETECT_TAIL_BURST,
    DETECT_TAIL_PRIOR,
    DETECT_TAIL_S,
    DETECT_WARMUP,
)

LEVEL, VARF, MEAN, VARS, PREV, RUN, RATE, NF, NS, QUANT = range(10)
NCOL = 10
NK = 4  # components: fast, slow T^2, smoothed T^2, stuck
ROWS, ALARM, NR, NQ = range(4)
NG = 4
LN10 = math.log(10.0)
ZMAX = 1e6


@njit(cache=True)
def normal_s2(z):
    """-log10 of the two-sided normal tail P(|Z| >= |z|)."""
    z = min(abs(z), ZMAX)
    if z < 8.0:
        return -math.log10(max(math.erfc(z / math.sqrt(2.0)), 1e-300))
    lnp = -0.5 * z * z - math.log(z) - 0.5 * math.log(2.0 * math.pi) + math.log(2.0)
    return -lnp / LN10


@njit(cache=True)
def chi2_s(t2, k):
    """-log10 of P(chi2_k >= t2), by the Wilson-Hilferty normal approximation."""
    if t2 <= 0.0:
        return 0.0
    c = 2.0 / (9.0 * k)
    z = ((t2 / k) ** (1.0 / 3.0) - (1.0 - c)) / math.sqrt(c)
    if z <= 0.0:
        return -math.log10(1.0 - 0.5 * math.erfc(-z / math.sqrt(2.0)))
    return normal_s2(z) + math.log10(2.0)


@njit(cache=True)
def quad_form(a, ridge, v, lo):
    """v' (a + ridge I)^-1 v for a symmetric d x d a, by Cholesky into the scratch lo."""
    d = v.shape[0]
    for i in range(d):
        for j in range(i + 1):
            s = a[i, j] + (ridge if i == j else 0.0)
            for k in range(j):
                s -= lo[i, k] * lo[j, k]
            if i == j:
                lo[i, i] = math.sqrt(max(s, 1e-12))
            else:
                lo[i, j] = s / lo[j, j]
    total = 0.0
    y = np.empty(d)
    for i in range(d):
        s = v[i]
        for k in range(i):
            s -= lo[i, k] * y[k]
        y[i] = s / lo[i, i]
        total += y[i] * y[i]
    return total


@njit(cache=True)
def score_of(s):
    """Score in [0, 1] of a calibrated surprise s: a logistic, 0 at s = 0, 0.5 near HALF_S."""
    lo = 1.0 / (1.0 + math.exp(DETECT_SLOPE * DETECT_HALF_S))
    hi = 1.0 / (1.0 + math.exp(-DETECT_SLOPE * (s - DETECT_HALF_S)))
    return max(0.0, (hi - lo) / (1.0 - lo))


@njit(cache=True)
def calibrated(raw, rate, excess):
    """A surprise recalibrated by its learnt tail: the rate of exceeding DETECT_TAIL_S and
    the mean excess beyond it (for -log10 of a true p-value: 1/ln 10, exponential)."""
    level = min(-math.log10(max(rate, 1e-300)), DETECT_TAIL_S)
    if raw <= DETECT_TAIL_S:
        return raw * level / DETECT_TAIL_S
    return level + (raw - DETECT_TAIL_S) * min(1.0, (1.0 / LN10) / excess)


@njit(cache=True)
def _clip(z):
    return min(max(z, -DETECT_CLIP), DETECT_CLIP)


@njit(cache=True)
def _sd(var, mean, quant):
    # floors relative to the value and to the column's resolution (its smallest step), never
    # absolute: the detector must not care about the unit (1e-9 or 1e9)
    return math.sqrt(max(var, (1e-9 * mean) ** 2, (0.5 * quant) ** 2, 1e-300))


@njit(cache=True)
def detect_rows(x, col, u, rr, uu, q, glob, out):
    """Score rows of x (n, d) float64 (NaN = missing) into out (n,), updating the state."""
    n, d = x.shape
    a_slow = 1.0 / DETECT_SLOW_ROWS
    lam = DETECT_SMOOTH
    zf = np.zeros(d)
    zs = np.zeros(d)
    ok = np.zeros(d, np.bool_)
    lo = np.zeros((d, d))
    raw = np.zeros(NK)
    for t in range(n):
        m = 0
        for j in range(d):
            ok[j] = not math.isnan(x[t, j]) and not math.isinf(x[t, j])
            m += ok[j]
        out[t] = 0.0
        if m == 0:
            continue
        # --- evidence, from the state before this row --------------------------------
        fast = 0.0
        stuck = 0.0
        full = m == d
        for j in range(d):
            zf[j] = 0.0
            zs[j] = 0.0
            c = col[j]
            if not ok[j] or c[NF] < 2.0:
                full = False
                continue
            v = x[t, j]
            zf[j] = min(max((v - c[LEVEL]) / _sd(c[VARF], c[LEVEL], c[QUANT]), -ZMAX), ZMAX)
            zs[j] = min(max((v - c[MEAN]) / _sd(c[VARS], c[MEAN], c[QUANT]), -ZMAX), ZMAX)
            fast = max(fast, normal_s2(zf[j]))
            if v == c[PREV]:
                rate = max(c[RATE], DETECT_STUCK_MIN_RATE)
                stuck = max(stuck, c[RUN] * -math.log10(rate))
        dm = math.log10(m)
        raw[0] = max(0.0, fast - dm)
        raw[1] = chi2_s(quad_form(rr, DETECT_RIDGE, zs, lo), d)
        for j in range(d):
            if ok[j] and col[j, NF] >= 2.0:
                u[j] = (1.0 - lam) * u[j] + lam * _clip(zs[j])
        raw[2] = chi2_s(quad_form(uu, DETECT_RIDGE * lam / (2.0 - lam), u, lo), d)
        raw[3] = max(0.0, stuck - dm)
        best = 0.0
        for k in range(NK):
            best = max(best, calibrated(raw[k], q[k, 0], q[k, 1]))
        s = max(0.0, best - math.log10(NK))
        warm = glob[ROWS] >= DETECT_WARMUP
        if warm:
            out[t] = score_of(s)
        alarm = warm and s >= DETECT_GATE_S
        glob[ALARM] = glob[ALARM] + 1.0 if alarm else 0.0
        learn = not alarm or glob[ALARM] > DETECT_ACCEPT_ROWS
        glob[ROWS] += 1.0
        # --- learning -----------------------------------------------------------------
        for j in range(d):
            if not ok[j]:
                continue
            c = col[j]
            v = x[t, j]
            if c[NF] == 0.0:
                c[LEVEL] = v
                c[MEAN] = v
                c[PREV] = v
                c[NF] = 1.0
                c[NS] = 1.0
                continue
            c[NF] += 1.0
            af = max(DETECT_FAST_ALPHA, 1.0 / c[NF])
            sf = _sd(c[VARF], c[LEVEL], c[QUANT])
            e = v - c[LEVEL]
            if c[NF] > 2.0:
                e = min(max(e, -DETECT_CLIP * sf), DETECT_CLIP * sf)
            if learn:  # a flat-line or a burst must not become the fast yardstick
                av = max(DETECT_FAST_VAR_ALPHA, 1.0 / c[NF])
                c[VARF] = (1.0 - av) * c[VARF] + av * e * e
            c[LEVEL] += af * e
            step = abs(v - c[PREV])
            if step > 0.0 and (c[QUANT] == 0.0 or step < c[QUANT]):
                c[QUANT] = step
            rep = 1.0 if v == c[PREV] else 0.0
            c[RUN] = c[RUN] + 1.0 if rep > 0.0 else 0.0
            c[PREV] = v
            if learn:
                c[NS] += 1.0
                a = max(a_slow, 1.0 / c[NS])
                ss = _sd(c[VARS], c[MEAN], c[QUANT])
                e = v - c[MEAN]
                if c[NS] > 2.0:
                    e = min(max(e, -DETECT_CLIP * ss), DETECT_CLIP * ss)
                c[VARS] = (1.0 - a) * c[VARS] + a * e * e
                c[MEAN] += a * e
                c[RATE] += a * (rep - c[RATE])
        if learn and full:
            glob[NR] += 1.0
            a = max(a_slow, 1.0 / (glob[NR] + DETECT_COV_PRIOR))
            for i in range(d):
                for j in range(d):
                    rr[i, j] += a * (_clip(zs[i]) * _clip(zs[j]) - rr[i, j])
                    uu[i, j] += a * (u[i] * u[j] - uu[i, j])
        # tails learn from short alarms too (else a heavy tail would never be learnt), not
        # from a long abnormal stretch
        if learn or glob[ALARM] <= DETECT_TAIL_BURST:
            glob[NQ] += 1.0
            a = max(a_slow, 1.0 / (glob[NQ] + DETECT_TAIL_PRIOR))
            for k in range(NK if learn else NK - 1):
                hit = raw[k] > DETECT_TAIL_S
                q[k, 0] += a * ((1.0 if hit else 0.0) - q[k, 0])
                if hit:
                    q[k, 2] = min(q[k, 2] + 1.0, DETECT_EXCESS_MEMORY)
                    cap = DETECT_EXCESS_CAP_T2 if k == 2 else DETECT_EXCESS_CAP
                    q[k, 1] += (min(raw[k] - DETECT_TAIL_S, cap) - q[k, 1]) / q[k, 2]
