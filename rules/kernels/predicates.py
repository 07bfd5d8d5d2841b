"""Predicate kinds, their state layout, and the helpers the batch kernels share.

State: a float64 matrix `st[slot, column]`; a predicate owns columns `o .. o + size - 1` of
every slot's row: `o` is its active flag (0/1), `o + 1` its last score, the rest its own.
Parameters: a float64 matrix `prm[pred, k]`. Times are Unix milliseconds (int64 on input,
float64 in state, exact below 2**53). The reading-driven kinds are stepped inline in
`rules.kernels.batch.evaluate` (a Numba call that takes arrays costs ~40 ns here, for the
reference counts, which is more than a whole step); the time-driven ones are in
`rules.kernels.timed`.
Parameter rows (index: meaning):
  threshold   0 on, 1 off, 2 min duration ms, 3 sign (+1 above, -1 below)
  rate        0 on (units/s), 1 off, 2 sign (+1 rise, -1 fall, 0 either), 3 min span ms
  ewma_z      0 alpha, 1 z on, 2 z off, 3 sign, 4 min samples
  robust_z    0 window, 1 z on, 2 z off, 3 sign, 4 min samples
  cusum       0 k, 1 h on, 2 h off, 3 sign, 4 warmup samples
  trend       0 limit, 1 horizon days, 2 tau days, 3 sign (+1 rising to limit), 4 min samples,
              5 min |t| of the slope, 6 min span days
  stuck       0 eps, 1 min duration ms, 2 min samples
  silent      0 timeout ms
  error_count 0 count, 1 window ms, 2 code index
  rate_while  0 on (directed units/s: sign x limit), 1 off (sign x clear), 2 sign (+1 above,
              -1 below), 3 window ms, 4 min rates, 5 ring length, 6 gate level, 7 gate metric id
              state after the header: 2 previous gated sample's ms (nan: none), 3 its value,
              4 the gate's latest ms (nan: none), 5 its value, 6 ring head, 7 rates pushed,
              then the ring: 8 .. 8 + n rate times (ms), 8 + n .. 8 + 2n rates (units/s)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

THRESHOLD, RATE, EWMA_Z, ROBUST_Z, CUSUM, TREND, STUCK, SILENT, ERROR_COUNT, RATE_WHILE = (
    range(10))
KIND_NAMES = ("threshold", "rate", "ewma_z", "robust_z", "cusum", "trend", "stuck",
              "silent", "error_count", "rate_while")
MS_PER_DAY = 86_400_000.0
# a trend predicate's weighted least-squares sums (s0, s_t, s_tt, s_x, s_tx, s_xx), as
# columns after its first (`rules.kernels.batch.evaluate` keeps them; origin: newest sample)
TREND_SUMS = (3, 4, 5, 6, 7, 9)


def state_size(kind: int, prm: np.ndarray) -> int:
    """Columns of state a predicate of `kind` with parameter row `prm` needs."""
    extra = {THRESHOLD: 1, RATE: 2, EWMA_Z: 3, CUSUM: 5, TREND: 8, STUCK: 3, SILENT: 0}
    if kind == ROBUST_Z:
        return 4 + 2 * int(prm[0])
    if kind == ERROR_COUNT:
        return 3 + int(prm[0])
    if kind == RATE_WHILE:
        return 8 + 2 * int(prm[5])
    return 2 + extra[kind]


@njit(cache=True)
def init_pred(st, s, o, kind, size):
    """Reset one predicate's columns of slot `s` to the empty state."""
    for j in range(size):
        st[s, o + j] = 0.0
    if kind in (THRESHOLD, RATE, STUCK):
        st[s, o + 2] = np.nan
    elif kind == RATE_WHILE:
        st[s, o + 2] = np.nan
        st[s, o + 4] = np.nan
        for j in range(8, 8 + (size - 8) // 2):
            st[s, o + j] = np.nan  # no rate time yet
    elif kind == ERROR_COUNT:
        for j in range(3, size):
            st[s, o + j] = np.nan


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


@njit(cache=True, error_model="numpy")
def trend_fit(dt, w, s0, s_t, s_tt, s_x, s_tx, s_xx, x):
    """Add a sample x, `dt` days after the last, to exponentially weighted least-squares sums
    kept at the origin u = 0 (the newest sample, u in days); `w` = exp(-dt / tau), the decay
    of the old weights (the caller may reuse it for a repeated dt); scalars in, the new sums
    out."""
    # move the origin to the new sample, then decay the old weights
    s_tt = s_tt - 2.0 * dt * s_t + dt * dt * s0
    s_t = s_t - dt * s0
    s_tx = s_tx - dt * s_x
    return s0 * w + 1.0, s_t * w, s_tt * w, s_x * w + x, s_tx * w, s_xx * w + x * x


@njit(cache=True, error_model="numpy")
def trend_days(s0, s_t, s_tt, s_x, s_tx, s_xx, limit, sign, min_t, min_span):
    """Days until the fitted line reaches `limit`: 0 if the fitted level is past it, inf if
    the slope heads away or is not significant (|t| < min_t); nan when no line fits or the
    data spans less than `min_span` days (as a uniform spread: sd of time x sqrt(12))."""
    den = s0 * s_tt - s_t * s_t
    if not den > 1e-12 * s0 * s0 or s0 <= 2.0:
        return np.nan
    ctt = den / s0  # weighted sum of squares of time about its mean
    if ctt / s0 * 12.0 < min_span * min_span:
        return np.nan
    slope = (s0 * s_tx - s_t * s_x) / den
    now = (s_x - slope * s_t) / s0
    gap = sign * (limit - now)
    if gap <= 0.0:
        return 0.0
    if sign * slope <= 1e-9 * (1.0 + abs(now)):  # flat within rounding: never
        return np.inf
    rss = max(s_xx - s_x * s_x / s0 - slope * slope * ctt, 0.0)
    se = math.sqrt(rss / (s0 - 2.0) / ctt)
    if sign * slope < min_t * se:  # a slope noise could have drawn
        return np.inf
    return gap / (sign * slope)


@njit(cache=True)
def rate_while_median(st, s, o, t, window, n, scratch):
    """Median of a rate_while predicate's rates (ring of `n` at columns o + 8 ..) timed within
    (t - window, t], and how many there are; nan when none."""
    c = 0
    for j in range(n):
        rt = st[s, o + 8 + j]
        if rt > t - window and rt <= t:
            scratch[c] = st[s, o + 8 + n + j]
            c += 1
    if c == 0:
        return np.nan, 0
    return np.median(scratch[:c]), c
