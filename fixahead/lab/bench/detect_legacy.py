"""The previous generic detector, a benchmark baseline only (not in production).

One series in, one anomaly score in [0, 1] per row out.

Each row is scored only from the rows before it and itself. Components, each a tail
probability:
  level  robust z of the value against the median/MAD of the previous 16, 64 and 256 values,
         taking the least extreme of the windows (a spike is extreme in all of them; after a
         level shift the short window adapts first, so one shift raises a short burst).
  diff   the same for first differences (sudden jumps, changes of roughness).
  cusum  two-sided CUSUM of values standardised by the longest window (slow drift), restarted
         once it has signalled and silent until the longest window has half renewed.
  calm   the last 16 differences far quieter than the last 256 (a flat-lined sensor).
Each component's surprise s = -log10(p) is then calibrated against its own recent history:
for Gaussian noise s is exponential with mean 1/ln(10); a series whose surprises run larger
(heavy tails, autocorrelation) has them shrunk by the ratio of the exponential mean its
quantiles imply. The calibrated surprises combine by Bonferroni (min p times 4); a row below
the peak of the 32 before it is an echo of that excursion and keeps half its surprise (one
excursion, one alert); score = 1 - exp(-S / scale). Missing values score 0 and leave the
state untouched.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

LN10 = math.log(10.0)
BASE_MEAN = 1.0 / LN10  # mean of -log10(U), U uniform
NC = 4  # components: level, diff, cusum, calm
RECENT = 32  # rows an alert's echoes are looked for in
ECHO = 0.5  # weight of an echo's surprise


@njit(cache=True)
def _insert(srt, c, v):
    pos = np.searchsorted(srt[:c], v)
    for k in range(c, pos, -1):
        srt[k] = srt[k - 1]
    srt[pos] = v


@njit(cache=True)
def _remove(srt, c, v):
    pos = np.searchsorted(srt[:c], v)
    for k in range(pos, c - 1):
        srt[k] = srt[k + 1]


@njit(cache=True)
def window_push(ring, srt, meta, j, w, v):
    """Append v to window j (capacity w): ring order in `ring[j]`, sorted copy in `srt[j]`."""
    c = meta[j, 0]
    head = meta[j, 1]
    if c == w:
        _remove(srt[j], c, ring[j, head])
        c -= 1
    _insert(srt[j], c, v)
    ring[j, head] = v
    meta[j, 0] = c + 1
    meta[j, 1] = (head + 1) % w


@njit(cache=True)
def sorted_median(a, c):
    """Median of the sorted a[:c]."""
    h = c // 2
    return a[h] if c % 2 == 1 else 0.5 * (a[h - 1] + a[h])


@njit(cache=True)
def sorted_mad(a, c, med):
    """Median absolute deviation of the sorted a[:c] from med, by merging both sides."""
    r = np.searchsorted(a[:c], med)
    i = r - 1
    j = r
    need = c // 2 + 1
    prev = 0.0
    cur = 0.0
    for _ in range(need):
        prev = cur
        if i >= 0 and (j >= c or med - a[i] <= a[j] - med):
            cur = med - a[i]
            i -= 1
        else:
            cur = a[j] - med
            j += 1
    return cur if c % 2 == 1 else 0.5 * (prev + cur)


@njit(cache=True)
def robust_scale(a, c, med, floor):
    """MAD as a standard deviation; mean absolute deviation when over half the values tie."""
    s = 1.4826 * sorted_mad(a, c, med)
    if s <= 0.0:
        acc = 0.0
        for k in range(c):
            acc += abs(a[k] - med)
        s = 1.2533 * acc / c
    # relative floor only: the detector must not care about the unit (1e-9 or 1e9)
    return max(s, floor * abs(med), 1e-300)


@njit(cache=True)
def log10_normal_sf2(z):
    """-log10 of the two-sided normal tail probability P(|Z| >= |z|)."""
    z = abs(z)
    if z < 8.0:
        p = math.erfc(z / math.sqrt(2.0))
        return -math.log10(max(p, 1e-300))
    # Mills ratio: P(|Z| > z) ~ 2 phi(z) / z
    lnp = -0.5 * z * z - math.log(z) - 0.5 * math.log(2.0 * math.pi) + math.log(2.0)
    return -lnp / LN10


@njit(cache=True)
def _least_extreme(zs, m):
    best = 0.0
    for k in range(m):
        z = zs[k]
        if k == 0:
            best = z
        elif z * best <= 0.0:
            return 0.0
        elif abs(z) < abs(best):
            best = z
    return best


@njit(cache=True)
def _calibrated(s, srt, c):
    if c < 16:
        return s
    mean = BASE_MEAN
    mean = max(mean, sorted_median(srt, c) / math.log(2.0))
    mean = max(mean, srt[int(0.90 * (c - 1))] / math.log(10.0))
    mean = max(mean, srt[int(0.99 * (c - 1))] / math.log(100.0))
    return s * BASE_MEAN / mean


WINDOWS = (16, 64, 256)
MIN_POINTS, WARMUP, CALIBRATION = 8, 32, 512
CUSUM_K, CUSUM_RESET, SCORE_SCALE, FLOOR = 0.5, 20.0, 6.0, 1e-6


def legacy_scores(values: np.ndarray) -> np.ndarray:
    """Scores of the previous `fixahead detect` for one series (NaN = missing)."""
    return detect_scores(np.ascontiguousarray(values, dtype=np.float64),
                         np.asarray(WINDOWS, dtype=np.int64), MIN_POINTS, WARMUP, CALIBRATION,
                         CUSUM_K, CUSUM_RESET, SCORE_SCALE, FLOOR)


@njit(cache=True)
def detect_scores(x, windows, min_points, warmup, calibration, cusum_k, cusum_reset,
                  score_scale, floor):
    """Score each row of x (float64, NaN = missing) from itself and the rows before it."""
    n = x.shape[0]
    nw = windows.shape[0]
    wmax = windows.max()
    out = np.zeros(n)
    vring = np.zeros((nw, wmax))
    vsrt = np.zeros((nw, wmax))
    vmeta = np.zeros((nw, 2), np.int64)
    dring = np.zeros((nw, wmax))
    dsrt = np.zeros((nw, wmax))
    dmeta = np.zeros((nw, 2), np.int64)
    cring = np.zeros((NC, calibration))
    csrt = np.zeros((NC, calibration))
    cmeta = np.zeros((NC, 2), np.int64)
    zs = np.zeros(nw)
    surprise = np.zeros(NC)
    delay = wmax
    delayed = np.zeros((NC, delay))
    prev = np.nan
    hi = 0.0
    lo = 0.0
    seen = 0
    hold = 0
    recent = np.zeros(RECENT)
    for t in range(n):
        v = x[t]
        if math.isnan(v):
            continue
        seen += 1
        d = v - prev if not math.isnan(prev) else np.nan
        # level: least extreme robust z over the windows that have enough points
        m = 0
        long_med = np.nan
        long_scale = np.nan
        for j in range(nw):
            c = vmeta[j, 0]
            if c >= min_points:
                a = vsrt[j]
                med = sorted_median(a, c)
                sc = robust_scale(a, c, med, floor)
                zs[m] = (v - med) / sc
                m += 1
                long_med = med
                long_scale = sc
        surprise[0] = log10_normal_sf2(_least_extreme(zs, m)) if m > 0 else 0.0
        # diff
        m = 0
        if not math.isnan(d):
            for j in range(nw):
                c = dmeta[j, 0]
                if c >= min_points:
                    a = dsrt[j]
                    med = sorted_median(a, c)
                    zs[m] = (d - med) / robust_scale(a, c, med, floor)
                    m += 1
        surprise[1] = log10_normal_sf2(_least_extreme(zs, m)) if m > 0 else 0.0
        # calm: the short window's differences far quieter than the longest's (flat-lined
        # or stuck sensor); ln of a 16-point MAD has a standard deviation near 0.29
        surprise[3] = 0.0
        cs_ = dmeta[0, 0]
        cl_ = dmeta[nw - 1, 0]
        # only where most differences are non-zero: a quantised series that often repeats
        # itself is not flat-lining when it repeats
        b = dsrt[nw - 1]
        wide = 0.0
        if cs_ >= windows[0] and cl_ >= 4 * windows[0]:
            wide = 1.4826 * sorted_mad(b, cl_, sorted_median(b, cl_))
        if wide > 0.0:
            a = dsrt[0]
            short = max(robust_scale(a, cs_, sorted_median(a, cs_), floor), 1e-3 * wide)
            zc = math.log(wide / short) / 0.29
            if zc > 0.0:
                surprise[3] = log10_normal_sf2(zc) + math.log10(2.0)
        # cusum against the longest usable window; P(max excursion > h) ~ exp(-2 k h)
        surprise[2] = 0.0
        if hold > 0:
            hold -= 1
        elif not math.isnan(long_med):
            r = (v - long_med) / long_scale
            r = min(max(r, -4.0), 4.0)  # spikes belong to `level`, not to drift
            hi = max(0.0, hi + r - cusum_k)
            lo = max(0.0, lo - r - cusum_k)
            surprise[2] = 2.0 * cusum_k * max(hi, lo) / LN10
            if max(hi, lo) >= cusum_reset:
                # signalled: rest until the longest window has taken in the new level
                hi = 0.0
                lo = 0.0
                hold = wmax // 2
        best = 0.0
        for k in range(NC):
            cs = _calibrated(surprise[k], csrt[k], cmeta[k, 0])
            best = max(best, cs)
            # calibrate against history at least `delay` rows old, so that an anomaly lasting
            # a while does not become its own yardstick
            slot = seen % delay
            old = delayed[k, slot]
            delayed[k, slot] = surprise[k]
            if seen > delay:
                window_push(cring, csrt, cmeta, k, calibration, old)
        total = max(0.0, best - math.log10(NC))
        # one excursion, one alert: a row below the peak of the last RECENT rows is an echo of
        # that peak (a level shift's following rows, a spike's return) and counts for less
        peak = 0.0
        for k in range(RECENT):
            peak = max(peak, recent[k])
        recent[seen % RECENT] = total
        if total < peak:
            total *= ECHO
        if seen > warmup:
            out[t] = 1.0 - math.exp(-total / score_scale)
        for j in range(nw):
            window_push(vring, vsrt, vmeta, j, windows[j], v)
            if not math.isnan(d):
                window_push(dring, dsrt, dmeta, j, windows[j], d)
        prev = v
    return out
