"""Predicate steps: one reading in, the predicate's state row updated, "did it flip?" out.

State: a float64 matrix `st[slot, column]`; a predicate owns columns `o .. o + size - 1` of
every slot's row: `o` is its active flag (0/1), `o + 1` its last score, the rest its own.
Parameters: a float64 matrix `prm[pred, k]`. Times are Unix milliseconds (int64 on input,
float64 in state, exact below 2**53). NaN readings are ignored. Every step returns 1 when the
active flag changed, else 0.
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
def _hysteresis(st, s, o, v, on, off):
    if st[s, o] == 0.0:
        if v >= on:
            st[s, o] = 1.0
            return 1
    elif not v >= off:
        st[s, o] = 0.0
        return 1
    return 0


@njit(cache=True)
def _directed(v, sign):
    if sign > 0:
        return v
    if sign < 0:
        return -v
    return abs(v)


@njit(cache=True)
def step_threshold(st, s, o, ts, x, prm, p):
    """x above `on` (below, when sign < 0) for at least `min_ms`; clears past `off`."""
    sign = prm[p, 3]
    v = x * sign
    on = prm[p, 0] * sign
    st[s, o + 1] = x
    if st[s, o] == 0.0:
        if v >= on:
            if math.isnan(st[s, o + 2]):
                st[s, o + 2] = ts
            if ts - st[s, o + 2] >= prm[p, 2]:
                st[s, o] = 1.0
                st[s, o + 2] = np.nan
                return 1
        else:
            st[s, o + 2] = np.nan
        return 0
    if v < prm[p, 1] * sign:
        st[s, o] = 0.0
        return 1
    return 0


@njit(cache=True)
def step_rate(st, s, o, ts, x, prm, p):
    """Rate of change in units per second against the previous sample; hysteresis on it."""
    pts = st[s, o + 2]
    px = st[s, o + 3]
    st[s, o + 2] = ts
    st[s, o + 3] = x
    if math.isnan(pts) or ts <= pts:
        return 0
    rate = (x - px) * 1000.0 / (ts - pts)
    st[s, o + 1] = rate
    return _hysteresis(st, s, o, _directed(rate, prm[p, 2]), prm[p, 0], prm[p, 1])


@njit(cache=True)
def step_ewma(st, s, o, ts, x, prm, p):
    """z of x against the EWMA mean and variance before x; then x joins them."""
    alpha = prm[p, 0]
    mean = st[s, o + 2]
    var = st[s, o + 3]
    n = st[s, o + 4]
    if n == 0.0:
        st[s, o + 2] = x
        st[s, o + 4] = 1.0
        return 0
    scale = max(math.sqrt(var), SCALE_FLOOR * (1.0 + abs(mean)))
    z = (x - mean) / scale
    diff = x - mean
    incr = alpha * diff
    st[s, o + 2] = mean + incr
    st[s, o + 3] = (1.0 - alpha) * (var + diff * incr)
    st[s, o + 4] = n + 1.0
    if n < prm[p, 4]:
        return 0
    st[s, o + 1] = z
    return _hysteresis(st, s, o, _directed(z, prm[p, 3]), prm[p, 1], prm[p, 2])


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
def step_robust(st, s, o, ts, x, prm, p, scratch):
    """z of x against the median and MAD of the previous `window` samples."""
    w = int(prm[p, 0])
    count = int(st[s, o + 2])
    head = int(st[s, o + 3])
    c = min(count, w)
    changed = 0
    if c >= prm[p, 4] and c > 0:
        med, mad = median_mad(st[s, o + 4:o + 4 + w], c, scratch)
        scale = max(MAD_TO_SIGMA * mad, SCALE_FLOOR * (1.0 + abs(med)))
        z = (x - med) / scale
        st[s, o + 1] = z
        changed = _hysteresis(st, s, o, _directed(z, prm[p, 3]), prm[p, 1], prm[p, 2])
    st[s, o + 4 + head] = x
    st[s, o + 3] = (head + 1) % w
    st[s, o + 2] = count + 1
    return changed


@njit(cache=True)
def step_cusum(st, s, o, ts, x, prm, p):
    """Two-sided CUSUM against a baseline learned from the first `warmup` samples."""
    n = st[s, o + 2]
    mean = st[s, o + 3]
    if n < prm[p, 4]:
        n += 1.0
        d = x - mean
        mean += d / n
        st[s, o + 2] = n
        st[s, o + 3] = mean
        st[s, o + 4] += d * (x - mean)
        return 0
    sd = math.sqrt(st[s, o + 4] / (n - 1.0)) if n > 1.0 else 0.0
    sigma = max(sd, SCALE_FLOOR * (1.0 + abs(mean)))
    r = (x - mean) / sigma
    k = prm[p, 0]
    hi = max(0.0, st[s, o + 5] + r - k)
    lo = max(0.0, st[s, o + 6] - r - k)
    st[s, o + 5] = hi
    st[s, o + 6] = lo
    sign = prm[p, 3]
    v = hi if sign > 0 else (lo if sign < 0 else max(hi, lo))
    st[s, o + 1] = v
    return _hysteresis(st, s, o, v, prm[p, 1], prm[p, 2])


@njit(cache=True)
def step_trend(st, s, o, ts, x, prm, p):
    """Exponentially weighted linear trend; score = predicted days until x reaches `limit`."""
    n = st[s, o + 8]
    if n == 0.0:
        st[s, o + 2] = ts
        st[s, o + 3] = 1.0
        st[s, o + 6] = x
        st[s, o + 8] = 1.0
        return 0
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
        return 0
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
    horizon = prm[p, 1]
    if st[s, o] == 0.0:
        if days <= horizon:
            st[s, o] = 1.0
            return 1
    elif days > horizon * TREND_CLEAR_FACTOR:
        st[s, o] = 0.0
        return 1
    return 0


@njit(cache=True)
def step_stuck(st, s, o, ts, x, prm, p):
    """Within `eps` of the run's first value for `min_count` samples and `min_ms`."""
    ref = st[s, o + 2]
    if math.isnan(ref) or abs(x - ref) > prm[p, 0]:
        st[s, o + 2] = x
        st[s, o + 3] = ts
        st[s, o + 4] = 1.0
    else:
        st[s, o + 4] += 1.0
    dur = ts - st[s, o + 3]
    st[s, o + 1] = dur / 1000.0
    on = st[s, o + 4] >= prm[p, 2] and dur >= prm[p, 1]
    if on != (st[s, o] != 0.0):
        st[s, o] = 1.0 if on else 0.0
        return 1
    return 0


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
def step(kind, st, s, o, ts, x, prm, p, scratch):
    """Feed one reading to predicate `p` of kind `kind`; 1 when its active flag flipped."""
    if kind == THRESHOLD:
        return step_threshold(st, s, o, ts, x, prm, p)
    if kind == EWMA_Z:
        return step_ewma(st, s, o, ts, x, prm, p)
    if kind == RATE:
        return step_rate(st, s, o, ts, x, prm, p)
    if kind == STUCK:
        return step_stuck(st, s, o, ts, x, prm, p)
    if kind == TREND:
        return step_trend(st, s, o, ts, x, prm, p)
    if kind == CUSUM:
        return step_cusum(st, s, o, ts, x, prm, p)
    if kind == ROBUST_Z:
        return step_robust(st, s, o, ts, x, prm, p, scratch)
    return 0


@njit(cache=True)
def run_series(kind, ts, x, prm_row, size):
    """One predicate over one series in order (late samples skipped): active and score."""
    n = ts.shape[0]
    st = np.zeros((1, size))
    prm = prm_row.reshape(1, -1)
    init_pred(st, 0, 0, kind, size)
    scratch = np.empty(2 * max(size, 1))
    active = np.zeros(n, np.int8)
    score = np.full(n, np.nan)
    wm = -1
    for i in range(n):
        if ts[i] > wm and not math.isnan(x[i]):
            wm = ts[i]
            step(kind, st, 0, 0, ts[i], x[i], prm, 0, scratch)
            score[i] = st[0, 1]
        active[i] = st[0, 0] != 0.0
    return active, score
