"""Slow, obviously correct references for the predicate kernels (after stumpy's naive.py).

Each takes the whole series and recomputes every answer from the accepted history, in plain
Python: `accepted` drops NaN readings and readings not after the latest accepted time.
"""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np

SCALE_FLOOR = 1e-6


def accepted(ts, x):
    """Indices the engine feeds to a predicate: not NaN, strictly after the watermark."""
    out, wm = [], None
    for i, (t, v) in enumerate(zip(ts, x, strict=True)):
        if not math.isnan(v) and (wm is None or t > wm):
            out.append(i)
            wm = t
    return out


def _flip(active, v, on, off):
    if not active:
        return v >= on
    return v >= off


def _directed(v, sign):
    return v if sign > 0 else (-v if sign < 0 else abs(v))


def _run(ts, x, score_fn, active_fn):
    n = len(ts)
    active = np.zeros(n, np.int8)
    score = np.full(n, np.nan)
    idx = accepted(ts, x)
    state = False
    j = 0
    for i in range(n):
        if j < len(idx) and idx[j] == i:
            hist = idx[:j + 1]
            sc = score_fn(hist)
            if sc is not None:
                score[i] = sc
            state = active_fn(state, hist, sc)
            j += 1
        active[i] = state
    # a reading that produced no score repeats the previous one (the kernel keeps its state)
    last = 0.0
    for i in idx:
        if np.isnan(score[i]):
            score[i] = last
        last = score[i]
    return active, score


def threshold(ts, x, on, off, min_ms, sign):
    """Above `on` (below when sign < 0) for `min_ms`, clears past `off`."""
    return _run_threshold(ts, x, on, off, min_ms, sign)


def _run_threshold(ts, x, on, off, min_ms, sign):
    n = len(ts)
    active = np.zeros(n, np.int8)
    score = np.full(n, np.nan)
    state, since = False, None
    for i in accepted(ts, x):
        v = x[i] * sign
        score[i] = x[i]
        if state:
            if not v >= off * sign:
                state = False
        elif v >= on * sign:
            since = ts[i] if since is None else since
            if ts[i] - since >= min_ms:
                state, since = True, None
        else:
            since = None
        active[i] = state
    return _fill(active, score, ts, x)


def _fill(active, score, ts, x):
    last = 0
    keep = set(accepted(ts, x))
    for i in range(len(ts)):
        if i in keep:
            last = active[i]
        else:
            active[i], score[i] = last, np.nan
    return active, score


def rate(ts, x, limit, clear, sign, span_ms=0):
    """Per-second rate since the last reading that produced one (at least span_ms ago)."""
    def score_fn(hist):
        anchor = hist[0]
        result = None
        for i in hist[1:]:
            if ts[i] - ts[anchor] >= max(span_ms, 1):
                result = (x[i] - x[anchor]) * 1000.0 / (ts[i] - ts[anchor])
                anchor = i
                if i == hist[-1]:
                    return result
        return None
    return _hyst(ts, x, score_fn, limit, clear, sign)


def _hyst(ts, x, score_fn, on, off, sign):
    def active_fn(state, hist, sc):
        if sc is None:
            return state
        return _flip(state, _directed(sc, sign), on, off)
    return _run(ts, x, score_fn, active_fn)


def ewma_z(ts, x, alpha, z_on, z_off, sign, min_n):
    """z against an EWMA mean/variance written as explicit weighted sums over the history."""
    def score_fn(hist):
        k = len(hist) - 1
        if k < max(min_n, 1):
            return None
        prev = [x[i] for i in hist[:-1]]
        # mean_k = (1-a)^(k-1) x0 + sum_j a (1-a)^(k-1-j) x_j  (j = 1..k-1)
        mean, var = prev[0], 0.0
        for v in prev[1:]:
            d = v - mean
            mean, var = mean + alpha * d, (1 - alpha) * (var + alpha * d * d)
        scale = max(math.sqrt(var), SCALE_FLOOR * (1 + abs(mean)))
        return (x[hist[-1]] - mean) / scale
    return _hyst(ts, x, score_fn, z_on, z_off, sign)


def robust_z(ts, x, window, z_on, z_off, sign, min_n):
    """z against statistics.median and MAD of the previous `window` accepted readings."""
    def score_fn(hist):
        prev = [x[i] for i in hist[:-1]][-window:]
        if len(prev) < max(min_n, 1):
            return None
        med = statistics.median(prev)
        mad = statistics.median([abs(v - med) for v in prev])
        scale = max(1.4826 * mad, SCALE_FLOOR * (1 + abs(med)))
        return (x[hist[-1]] - med) / scale
    return _hyst(ts, x, score_fn, z_on, z_off, sign)


def cusum(ts, x, k, h, h_off, sign, warmup):
    """CUSUM sums recomputed from the start against the first `warmup` readings' mean/sd."""
    def score_fn(hist):
        vals = [x[i] for i in hist]
        if len(vals) <= warmup:
            return None
        base = vals[:warmup]
        mean = statistics.fmean(base)
        sd = statistics.stdev(base) if warmup > 1 else 0.0
        sigma = max(sd, SCALE_FLOOR * (1 + abs(mean)))
        hi = lo = 0.0
        for v in vals[warmup:]:
            r = (v - mean) / sigma
            hi, lo = max(0.0, hi + r - k), max(0.0, lo - r - k)
        return hi if sign > 0 else (lo if sign < 0 else max(hi, lo))
    return _hyst(ts, x, score_fn, h, h_off, 1)


def trend(ts, x, limit, horizon, tau_days, sign, min_n, min_t=0.0, min_span=0.0):
    """Weighted least squares with weights exp(-age/tau), solved with numpy.linalg.lstsq;
    the slope's t statistic from the weighted residuals with sum(w) - 2 degrees of freedom."""
    def score_fn(hist):
        if len(hist) < max(min_n, 2):
            return None
        t = np.array([ts[i] for i in hist], float) / 86_400_000.0
        u = t - t[-1]
        w = np.exp(u / tau_days)
        a = np.stack([np.ones_like(u), u], axis=1) * np.sqrt(w)[:, None]
        b = np.array([x[i] for i in hist]) * np.sqrt(w)
        s0, s_t, s_tt = w.sum(), (w * u).sum(), (w * u * u).sum()
        if not s0 * s_tt - s_t * s_t > 1e-12 * s0 * s0 or s0 <= 2:  # "too few to fit"
            return None
        mean_u = (w * u).sum() / s0
        if math.sqrt((w * (u - mean_u) ** 2).sum() / s0 * 12) < min_span:  # too short a span
            return None
        (now, slope), *_ = np.linalg.lstsq(a, b, rcond=None)
        gap = sign * (limit - now)
        if gap <= 0:
            return 0.0
        if sign * slope <= 1e-9 * (1 + abs(now)):  # flat within rounding
            return math.inf
        resid = np.array([x[i] for i in hist]) - (now + slope * u)
        rss = float((w * resid * resid).sum())
        ctt = float((w * (u - (w * u).sum() / s0) ** 2).sum())
        se = math.sqrt(rss / (s0 - 2) / ctt)
        if sign * slope < min_t * se:
            return math.inf
        return gap / (sign * slope)

    def active_fn(on, hist, sc):
        if sc is None:
            return on
        return sc <= horizon if not on else not sc > horizon * 1.5
    return _run(ts, x, score_fn, active_fn)


def stuck(ts, x, eps, min_ms, min_count):
    """Length of the run of readings within eps of the run's first reading."""
    n = len(ts)
    active = np.zeros(n, np.int8)
    score = np.full(n, np.nan)
    idx = accepted(ts, x)
    for j, i in enumerate(idx):
        start = 0
        for k in range(1, j + 1):  # runs restart wherever a reading leaves the run's band
            if abs(x[idx[k]] - x[idx[start]]) > eps:
                start = k
        count = j - start + 1
        dur = ts[i] - ts[idx[start]]
        score[i] = dur / 1000.0
        active[i] = count >= min_count and dur >= min_ms
    return _fill(active, score, ts, x)


def silent(reading_times, now, timeout_ms):
    """Seen at least once, and the newest reading is more than timeout_ms before `now`."""
    return bool(reading_times) and now - max(reading_times) > timeout_ms


def error_count(times, now, count, window_ms):
    """Events in (now - window, now]."""
    return sum(1 for t in times if now - window_ms < t <= now) >= count


def rate_while(ts, mid, x, limit, clear, sign, window_ms, min_n, ring, level):
    """Recomputed from the whole history at each reading of the metric (mid 1): the gate (mid
    0) at a metric sample is the latest accepted gate reading before it in the stream with a
    time at or before it; rates between consecutive accepted metric samples both gated (no
    ungated metric sample between them), the newest `ring` of them, those timed within
    (t - window, t]; statistics.median of at least min_n; hysteresis on sign x median."""
    n = len(ts)
    active = np.zeros(n, np.int8)
    score = np.full(n, np.nan)
    acc = {k: set(accepted([t for t, m in zip(ts, mid, strict=True) if m == k],
                           [v for v, m in zip(x, mid, strict=True) if m == k])) for k in (0, 1)}
    pos = {0: 0, 1: 0}
    keep = []  # index of each row among its metric's rows, accepted or not
    for m in mid:
        keep.append(pos[m] in acc[m])
        pos[m] += 1
    state, last = False, 0.0
    gate = None  # (ts, value) of the latest accepted gate reading so far
    samples = []  # accepted metric rows so far: (ts, value, gated)
    for i in range(n):
        if keep[i] and mid[i] == 0:
            gate = (ts[i], x[i])
        elif keep[i]:
            gated = gate is not None and gate[0] <= ts[i] and gate[1] > level
            samples.append((ts[i], x[i], gated))
            rates = [((b[1] - a[1]) * 1000.0 / (b[0] - a[0]), b[0])
                     for a, b in itertools.pairwise(samples) if a[2] and b[2]][-ring:]
            inside = [r for r, t in rates if ts[i] - window_ms < t <= ts[i]]
            if gated and len(samples) > 1 and samples[-2][2] and len(inside) >= min_n:
                last = statistics.median(inside)
                state = _flip(state, _directed(last, sign), sign * limit, sign * clear)
            score[i] = last
        active[i] = state
    return active, score
