"""Predicate kinds, their state layout, and the helpers the batch kernels share.

State: a float64 matrix `st[slot, column]`; a predicate owns columns `o .. o + size - 1` of
every slot's row: `o` is its active flag (0/1), `o + 1` its last score, the rest its own.
Parameters: a float64 matrix `prm[pred, k]`. Times are Unix milliseconds (int64 on input,
float64 in state, exact below 2**53). The reading-driven kinds are stepped inline in
`rules.kernels.batch.evaluate` (a Numba call that takes arrays costs ~40 ns here, for the
reference counts, which is more than a whole step); the time-driven ones live here.
Parameter rows (index: meaning):
  threshold   0 on, 1 off, 2 min duration ms, 3 sign (+1 above, -1 below)
  rate        0 on (units/s), 1 off, 2 sign (+1 rise, -1 fall, 0 either), 3 min span ms
  ewma_z      0 alpha, 1 z on, 2 z off, 3 sign, 4 min samples
  robust_z    0 window, 1 z on, 2 z off, 3 sign, 4 min samples
  cusum       0 k, 1 h on, 2 h off, 3 sign, 4 warmup samples
  trend       0 limit, 1 horizon days, 2 tau days, 3 sign (+1 rising to limit), 4 min samples
  stuck       0 eps, 1 min duration ms, 2 min samples
  silent      0 timeout ms
  error_count 0 count, 1 window ms, 2 code index
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rules.config import MAD_TO_SIGMA, SCALE_FLOOR, TREND_CLEAR_FACTOR

THRESHOLD, RATE, EWMA_Z, ROBUST_Z, CUSUM, TREND, STUCK, SILENT, ERROR_COUNT = range(9)
KIND_NAMES = ("threshold", "rate", "ewma_z", "robust_z", "cusum", "trend", "stuck",
              "silent", "error_count")
MS_PER_DAY = 86_400_000.0


def state_size(kind: int, prm: np.ndarray) -> int:
    """Columns of state a predicate of `kind` with parameter row `prm` needs."""
    extra = {THRESHOLD: 1, RATE: 2, EWMA_Z: 3, CUSUM: 5, TREND: 7, STUCK: 3, SILENT: 0}
    if kind == ROBUST_Z:
        return 4 + int(prm[0])
    if kind == ERROR_COUNT:
        return 3 + int(prm[0])
    return 2 + extra[kind]


@njit(cache=True)
def init_pred(st, s, o, kind, size):
    """Reset one predicate's columns of slot `s` to the empty state."""
    for j in range(size):
        st[s, o + j] = 0.0
    if kind in (THRESHOLD, RATE, STUCK):
        st[s, o + 2] = np.nan
    elif kind == ERROR_COUNT:
        for j in range(3, size):
            st[s, o + j] = np.nan


@njit(cache=True)
def median_mad(buf, c, scratch):
    """Median and MAD of buf[:c] (scratch needs 2*c room)."""
    a = scratch[:c]
    a[:] = buf[:c]
    a.sort()
    h = c // 2
    med = a[h] if c % 2 == 1 else 0.5 * (a[h - 1] + a[h])
    d = scratch[c:2 * c]
    for i in range(c):
        d[i] = abs(a[i] - med)
    d.sort()
    mad = d[h] if c % 2 == 1 else 0.5 * (d[h - 1] + d[h])
    return med, mad


@njit(cache=True)
def check_silent(st, s, o, now, last_seen, prm, p):
    """Silent: seen before, and nothing for more than `timeout_ms` up to `now`."""
    gap = now - last_seen
    st[s, o + 1] = gap / 1000.0
    on = last_seen >= 0 and gap > prm[p, 0]
    if on != (st[s, o] != 0.0):
        st[s, o] = 1.0 if on else 0.0
        return 1
    return 0


@njit(cache=True)
def check_error_count(st, s, o, now, prm, p, add):
    """At least `count` events within `window_ms` before `now`; `add` pushes `now` first."""
    n = int(prm[p, 0])
    head = int(st[s, o + 2])
    if add:
        st[s, o + 3 + head] = now
        head = (head + 1) % n
        st[s, o + 2] = head
    inside = 0
    for j in range(n):
        t = st[s, o + 3 + j]
        if t > now - prm[p, 1] and t <= now:
            inside += 1
    st[s, o + 1] = inside
    on = inside >= n
    if on != (st[s, o] != 0.0):
        st[s, o] = 1.0 if on else 0.0
        return 1
    return 0


@njit(cache=True)
def directed(v, sign):
    """v, -v or |v| for sign +1, -1, 0."""
    if sign > 0:
        return v
    if sign < 0:
        return -v
    return abs(v)


@njit(cache=True)
def robust_step(st, s, o, x, prm, p, scratch):
    """z against the previous `window` values' median and MAD; nan while too few."""
    w = int(prm[p, 0])
    count = int(st[s, o + 2])
    head = int(st[s, o + 3])
    c = min(count, w)
    v = np.nan
    if c >= prm[p, 4] and c > 0:
        med, mad = median_mad(st[s, o + 4:o + 4 + w], c, scratch)
        z = (x - med) / max(MAD_TO_SIGMA * mad, SCALE_FLOOR * (1.0 + abs(med)))
        st[s, o + 1] = z
        v = directed(z, prm[p, 3])
    st[s, o + 4 + head] = x
    st[s, o + 3] = (head + 1) % w
    st[s, o + 2] = count + 1
    return v


@njit(cache=True)
def trend_step(st, s, o, ts, x, prm, p):
    """Exponentially weighted linear trend; score = predicted days until x reaches `limit`."""
    n = st[s, o + 8]
    if n == 0.0:
        st[s, o + 2] = ts
        st[s, o + 3] = 1.0
        st[s, o + 6] = x
        st[s, o + 8] = 1.0
        return
    dt = (ts - st[s, o + 2]) / MS_PER_DAY
    s0, s_t, s_tt = st[s, o + 3], st[s, o + 4], st[s, o + 5]
    s_x, s_tx = st[s, o + 6], st[s, o + 7]
    # move the origin to the new sample (u = t - t_new), then decay the old weights
    s_tt = s_tt - 2.0 * dt * s_t + dt * dt * s0
    s_t = s_t - dt * s0
    s_tx = s_tx - dt * s_x
    w = math.exp(-dt / prm[p, 2])
    s0 = s0 * w + 1.0
    s_t *= w
    s_tt *= w
    s_x = s_x * w + x
    s_tx *= w
    st[s, o + 2] = ts
    st[s, o + 3], st[s, o + 4], st[s, o + 5] = s0, s_t, s_tt
    st[s, o + 6], st[s, o + 7] = s_x, s_tx
    st[s, o + 8] = n + 1.0
    den = s0 * s_tt - s_t * s_t
    if n + 1.0 < prm[p, 4] or not den > 1e-12 * s0 * s0:
        return
    slope = (s0 * s_tx - s_t * s_x) / den
    now = (s_x - slope * s_t) / s0
    sign = prm[p, 3]
    gap = sign * (prm[p, 0] - now)
    if gap <= 0.0:
        days = 0.0
    elif sign * slope <= 1e-9 * (1.0 + abs(now)):  # flat within rounding: never
        days = np.inf
    else:
        days = gap / (sign * slope)
    st[s, o + 1] = days
    if st[s, o] == 0.0:
        if days <= prm[p, 1]:
            st[s, o] = 1.0
    elif days > prm[p, 1] * TREND_CLEAR_FACTOR:
        st[s, o] = 0.0
