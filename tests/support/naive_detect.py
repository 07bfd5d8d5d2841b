"""A slow, obviously correct reference of the generic detector (rules/kernels/detect.py).

Plain Python per row, named fields instead of packed state, and numpy.linalg for T^2; the
same definitions, so the kernel must agree with it to rounding.
"""

from __future__ import annotations

import math

import numpy as np

from rules import config as C

LN10 = math.log(10.0)


def s2(z: float) -> float:
    """-log10 two-sided normal tail (exact erfc; the asymptote far out)."""
    z = min(abs(z), 1e6)
    if z < 8.0:
        return -math.log10(max(math.erfc(z / math.sqrt(2.0)), 1e-300))
    return (0.5 * z * z + math.log(z) + 0.5 * math.log(2 * math.pi) - math.log(2.0)) / LN10


def chi2(t2: float, k: int) -> float:
    """-log10 P(chi2_k >= t2), Wilson-Hilferty."""
    if t2 <= 0:
        return 0.0
    c = 2.0 / (9.0 * k)
    z = ((t2 / k) ** (1 / 3) - (1 - c)) / math.sqrt(c)
    if z <= 0:
        return -math.log10(1.0 - 0.5 * math.erfc(-z / math.sqrt(2.0)))
    return s2(z) + math.log10(2.0)


def reference_scores(x: np.ndarray) -> np.ndarray:
    """Scores of the rows of x (n, d), NaN = missing."""
    n, d = x.shape
    lam = C.DETECT_SMOOTH
    level, varf, mean, vars_, prev = [0.0] * d, [0.0] * d, [0.0] * d, [0.0] * d, [0.0] * d
    run, rate, nf, ns, quant = [0] * d, [0.0] * d, [0] * d, [0] * d, [0.0] * d
    refm, dvar, dmean = [0.0] * d, [0.0] * d, [0.0] * d
    a_slow = 1 / C.DETECT_SLOW_ROWS
    u = np.zeros(d)
    rr, uu = np.eye(d), np.eye(d) * lam / (2 - lam)
    tails = [[10 ** -C.DETECT_TAIL_S, 1 / LN10, 5.0] for _ in range(5)]
    rows = alarm_run = nr = nq = drift_run = settle = 0
    out = np.zeros(n)

    def sd(var: float, m: float, qu: float) -> float:
        return math.sqrt(max(var, (1e-9 * m) ** 2, (0.5 * qu) ** 2, 1e-300))

    def clip(z: float, lim: float = C.DETECT_CLIP) -> float:
        return min(max(z, -lim), lim)

    def cal(raw: float, q: float, ex: float) -> float:
        lv = min(-math.log10(max(q, 1e-300)), C.DETECT_TAIL_S)
        if raw <= C.DETECT_TAIL_S:
            return raw * lv / C.DETECT_TAIL_S
        return lv + (raw - C.DETECT_TAIL_S) * min(1.0, (1 / LN10) / ex)

    for t in range(n):
        ok = [math.isfinite(v) for v in x[t]]
        m = sum(ok)
        if m == 0:
            continue
        zs, zf = np.zeros(d), np.zeros(d)
        fast = stuck = drift = 0.0
        zd = [0.0] * d
        full = m == d
        for j in range(d):
            if not ok[j] or nf[j] < 2:
                full = False
                continue
            v = x[t, j]
            zf[j] = clip((v - level[j]) / sd(varf[j], level[j], quant[j]), 1e6)
            zs[j] = clip((v - mean[j]) / sd(vars_[j], mean[j], quant[j]), 1e6)
            fast = max(fast, s2(zf[j]))
            floor = sd(vars_[j], mean[j], quant[j]) ** 2 * a_slow / (2 - a_slow)
            if ns[j] >= C.DETECT_REF_MIN:
                zd[j] = clip((dmean[j] - refm[j]) / math.sqrt(max(dvar[j], floor)), 1e6)
            drift = max(drift, s2(zd[j]))
            if v == prev[j]:
                stuck = max(stuck, run[j] * -math.log10(max(rate[j], C.DETECT_STUCK_MIN_RATE)))
            u[j] = (1 - lam) * u[j] + lam * clip(zs[j])
        ridge_u = C.DETECT_RIDGE * lam / (2 - lam)
        raw = [max(0.0, fast - math.log10(m)),
               chi2(float(zs @ np.linalg.solve(rr + C.DETECT_RIDGE * np.eye(d), zs)), d),
               chi2(float(u @ np.linalg.solve(uu + ridge_u * np.eye(d), u)), d),
               max(0.0, drift - math.log10(m)),
               max(0.0, stuck - math.log10(m))]
        s = max(0.0, max(cal(raw[k], tails[k][0], tails[k][1]) for k in range(5)) - math.log10(5))
        warm = rows >= C.DETECT_WARMUP
        if warm:
            lo = 1 / (1 + math.exp(C.DETECT_SLOPE * C.DETECT_HALF_S))
            hi = 1 / (1 + math.exp(-C.DETECT_SLOPE * (s - C.DETECT_HALF_S)))
            out[t] = max(0.0, (hi - lo) / (1 - lo))
        alarm = warm and s >= C.DETECT_GATE_S
        alarm_run = alarm_run + 1 if alarm else 0
        learn = not alarm or alarm_run > C.DETECT_ACCEPT_ROWS
        settle = C.DETECT_REF_SETTLE if alarm_run > C.DETECT_ACCEPT_ROWS else max(settle - 1, 0)
        rows += 1
        for j in range(d):
            if not ok[j]:
                continue
            v = x[t, j]
            if nf[j] == 0:
                level[j] = mean[j] = prev[j] = refm[j] = dmean[j] = v
                nf[j] = ns[j] = 1
                continue
            nf[j] += 1
            e = v - level[j]
            if nf[j] > 2:
                e = clip(e, C.DETECT_CLIP * sd(varf[j], level[j], quant[j]))
            if learn:
                av = max(C.DETECT_FAST_VAR_ALPHA, 1 / nf[j])
                varf[j] = (1 - av) * varf[j] + av * e * e
            level[j] += max(C.DETECT_FAST_ALPHA, 1 / nf[j]) * e
            if v != prev[j] and (quant[j] == 0 or abs(v - prev[j]) < quant[j]):
                quant[j] = abs(v - prev[j])
            if abs(zs[j]) < C.DETECT_CLIP:
                dmean[j] += max(a_slow, 1 / nf[j]) * (v - dmean[j])
            rep = v == prev[j]
            run[j] = run[j] + 1 if rep else 0
            prev[j] = v
            if learn:
                ns[j] += 1
                a = max(1 / C.DETECT_SLOW_ROWS, 1 / ns[j])
                e = v - mean[j]
                if ns[j] > 2:
                    e = clip(e, C.DETECT_CLIP * sd(vars_[j], mean[j], quant[j]))
                vars_[j] = (1 - a) * vars_[j] + a * e * e
                mean[j] += a * e
                rate[j] += a * (float(rep) - rate[j])
            if settle > 0:
                dmean[j] = refm[j] = mean[j]
            elif learn and abs(zd[j]) < C.DETECT_CLIP:
                ar = max(1 / C.DETECT_REF_ROWS, 1 / ns[j])
                g = dmean[j] - refm[j]
                dvar[j] += ar * (g * g - dvar[j])
                refm[j] += ar * g
        if learn and full:
            nr += 1
            a = max(1 / C.DETECT_SLOW_ROWS, 1 / (nr + C.DETECT_COV_PRIOR))
            zc = np.clip(zs, -C.DETECT_CLIP, C.DETECT_CLIP)
            rr += a * (np.outer(zc, zc) - rr)
            uu += a * (np.outer(u, u) - uu)
        if learn or alarm_run <= C.DETECT_TAIL_BURST:
            nq += 1
            a = max(1 / C.DETECT_SLOW_ROWS, 1 / (nq + C.DETECT_TAIL_PRIOR))
            for k in range(5 if learn else 4):
                hit = raw[k] > C.DETECT_TAIL_S
                if k == 3:
                    drift_run = drift_run + 1 if hit else 0
                    if drift_run > C.DETECT_TAIL_BURST:
                        continue
                tails[k][0] += a * (float(hit) - tails[k][0])
                if hit:
                    tails[k][2] = min(tails[k][2] + 1, C.DETECT_EXCESS_MEMORY)
                    cap = C.DETECT_EXCESS_CAP_T2 if k == 2 else C.DETECT_EXCESS_CAP
                    ex = min(raw[k] - C.DETECT_TAIL_S, cap)
                    tails[k][1] += (ex - tails[k][1]) / tails[k][2]
    return out
