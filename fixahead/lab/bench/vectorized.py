"""The same rules vectorised in NumPy: the benchmark's baseline (and a cross-check).

It advances one *step* at a time, a step holding at most one reading per device, with array
operations over the devices of the step, on the same state layout as the Numba kernels.
"""

from __future__ import annotations

import numpy as np

from rules.compiler import CompiledRules
from rules.config import MAD_TO_SIGMA, SCALE_FLOOR, TREND_CLEAR_FACTOR
from rules.kernels.batch import OP_AND, OP_NOT
from rules.kernels.predicates import (
    CUSUM,
    EWMA_Z,
    MS_PER_DAY,
    RATE,
    RATE_WHILE,
    ROBUST_Z,
    STUCK,
    THRESHOLD,
    TREND,
)

NO_TIME = np.iinfo(np.int64).min


def _hyst(st, idx, o, v, on, off):
    act = st[idx, o] != 0
    new = np.where(act, v >= off, v >= on)
    st[idx, o] = new
    return new != act


def _dir(v, sign):
    return v if sign > 0 else (-v if sign < 0 else np.abs(v))


def _threshold(st, idx, o, ts, x, p):
    sign = p[3]
    v, on, off = x * sign, p[0] * sign, p[1] * sign
    st[idx, o + 1] = x
    act = st[idx, o] != 0
    pend = st[idx, o + 2]
    above = ~act & (v >= on)
    pend = np.where(above & np.isnan(pend), ts, pend)
    fire = above & (ts - pend >= p[2])
    pend = np.where(fire | (~act & ~(v >= on)), np.nan, pend)
    new = np.where(act, v >= off, fire)
    st[idx, o + 2] = pend
    st[idx, o] = new
    return new != act


def _rate(st, idx, o, ts, x, p):
    pts, px = st[idx, o + 2], st[idx, o + 3]
    first = np.isnan(pts)
    due = ~first & (ts - pts >= max(p[3], 1.0))
    move = first | due
    st[idx[move], o + 2], st[idx[move], o + 3] = ts[move], x[move]
    rate = (x[due] - px[due]) * 1000.0 / (ts[due] - pts[due])
    st[idx[due], o + 1] = rate
    flip = np.zeros(idx.size, bool)
    flip[due] = _hyst(st, idx[due], o, _dir(rate, p[2]), p[0], p[1])
    return flip


def _ewma(st, idx, o, ts, x, p):
    a = p[0]
    mean, var, n = st[idx, o + 2], st[idx, o + 3], st[idx, o + 4]
    first = n == 0
    scale = np.maximum(np.sqrt(var), SCALE_FLOOR * (1 + np.abs(mean)))
    z = (x - mean) / scale
    d = x - mean
    st[idx, o + 2] = np.where(first, x, mean + a * d)
    st[idx, o + 3] = np.where(first, var, (1 - a) * (var + d * a * d))
    st[idx, o + 4] = n + 1
    ok = ~first & (n >= p[4])
    st[idx[ok], o + 1] = z[ok]
    flip = np.zeros(idx.size, bool)
    flip[ok] = _hyst(st, idx[ok], o, _dir(z[ok], p[3]), p[1], p[2])
    return flip


def _robust(st, idx, o, ts, x, p):
    w = int(p[0])
    count = st[idx, o + 2].astype(np.int64)
    head = st[idx, o + 3].astype(np.int64)
    flip = np.zeros(idx.size, bool)
    ok = np.minimum(count, w) >= max(p[4], 1)
    full = ok & (count >= w)
    for sel in (full, ok & ~full):  # full windows in one block; partial ones row by row
        if not sel.any():
            continue
        rows = idx[sel]
        if sel is full:
            win = st[rows, o + 4:o + 4 + w]
            med = np.median(win, axis=1)
            mad = np.median(np.abs(win - med[:, None]), axis=1)
        else:
            med = np.empty(rows.size)
            mad = np.empty(rows.size)
            for k, (r, c) in enumerate(zip(rows, count[sel], strict=True)):
                win = st[r, o + 4:o + 4 + c]
                med[k] = np.median(win)
                mad[k] = np.median(np.abs(win - med[k]))
        z = (x[sel] - med) / np.maximum(MAD_TO_SIGMA * mad, SCALE_FLOOR * (1 + np.abs(med)))
        st[rows, o + 1] = z
        flip[sel] = _hyst(st, rows, o, _dir(z, p[3]), p[1], p[2])
    st[idx, o + 4 + head] = x
    st[idx, o + 3] = (head + 1) % w
    st[idx, o + 2] = count + 1
    return flip


def _cusum(st, idx, o, ts, x, p):
    n, mean, m2 = st[idx, o + 2], st[idx, o + 3], st[idx, o + 4]
    warm = n < p[4]
    n1 = n + 1
    d = x - mean
    mean1 = mean + d / n1
    st[idx[warm], o + 2] = n1[warm]
    st[idx[warm], o + 3] = mean1[warm]
    st[idx[warm], o + 4] = (m2 + d * (x - mean1))[warm]
    ok = ~warm
    r_idx = idx[ok]
    sd = np.where(n[ok] > 1, np.sqrt(m2[ok] / np.maximum(n[ok] - 1, 1)), 0.0)
    sigma = np.maximum(sd, SCALE_FLOOR * (1 + np.abs(mean[ok])))
    r = (x[ok] - mean[ok]) / sigma
    hi = np.maximum(0.0, st[r_idx, o + 5] + r - p[0])
    lo = np.maximum(0.0, st[r_idx, o + 6] - r - p[0])
    st[r_idx, o + 5], st[r_idx, o + 6] = hi, lo
    v = hi if p[3] > 0 else (lo if p[3] < 0 else np.maximum(hi, lo))
    st[r_idx, o + 1] = v
    flip = np.zeros(idx.size, bool)
    flip[ok] = _hyst(st, r_idx, o, v, p[1], p[2])
    return flip


def _trend(st, idx, o, ts, x, p):
    n = st[idx, o + 8]
    first = n == 0
    dt = np.where(first, 0.0, (ts - st[idx, o + 2]) / MS_PER_DAY)
    s0, s_t, s_tt, s_x, s_tx, s_xx = (st[idx, o + k] for k in (3, 4, 5, 6, 7, 9))
    s_tt = s_tt - 2 * dt * s_t + dt * dt * s0
    s_t = s_t - dt * s0
    s_tx = s_tx - dt * s_x
    w = np.exp(-dt / p[2])
    s0 = np.where(first, 1.0, s0 * w + 1)
    s_t, s_tt, s_tx = s_t * w, s_tt * w, s_tx * w
    s_x = np.where(first, x, s_x * w + x)
    s_xx = np.where(first, x * x, s_xx * w + x * x)
    st[idx, o + 2] = ts
    for k, col in zip((3, 4, 5, 6, 7, 9), (s0, s_t, s_tt, s_x, s_tx, s_xx), strict=True):
        st[idx, o + k] = col
    st[idx, o + 8] = n + 1
    den = s0 * s_tt - s_t * s_t
    ok = ~first & (n + 1 >= p[4]) & (den > 1e-12 * s0 * s0) & (s0 > 2.0)
    ok &= (den / s0) / s0 * 12.0 >= p[6] * p[6]
    slope = (s0 * s_tx - s_t * s_x) / np.where(ok, den, 1.0)
    now = (s_x - slope * s_t) / s0
    sign = p[3]
    gap = sign * (p[0] - now)
    flat = sign * slope <= 1e-9 * (1 + np.abs(now))
    with np.errstate(divide="ignore", invalid="ignore"):
        ctt = den / s0
        rss = np.maximum(s_xx - s_x * s_x / s0 - slope * slope * ctt, 0.0)
        se = np.sqrt(rss / (s0 - 2.0) / ctt)
        weak = sign * slope < p[5] * se
        days = np.where(gap <= 0, 0.0,
                        np.where(flat | weak, np.inf, gap / (sign * slope)))
    rows = idx[ok]
    st[rows, o + 1] = days[ok]
    act = st[rows, o] != 0
    new = np.where(act, ~(days[ok] > p[1] * TREND_CLEAR_FACTOR), days[ok] <= p[1])
    st[rows, o] = new
    flip = np.zeros(idx.size, bool)
    flip[ok] = new != act
    return flip


def _stuck(st, idx, o, ts, x, p):
    ref = st[idx, o + 2]
    restart = np.isnan(ref) | (np.abs(x - ref) > p[0])
    st[idx, o + 2] = np.where(restart, x, ref)
    st[idx, o + 3] = np.where(restart, ts, st[idx, o + 3])
    cnt = np.where(restart, 1.0, st[idx, o + 4] + 1)
    st[idx, o + 4] = cnt
    dur = ts - st[idx, o + 3]
    st[idx, o + 1] = dur / 1000.0
    on = (cnt >= p[2]) & (dur >= p[1])
    flip = on != (st[idx, o] != 0)
    st[idx, o] = on
    return flip


def _gate(st, idx, o, ts, x, p):
    """A reading of a rate_while predicate's gate: its latest sample."""
    st[idx, o + 4], st[idx, o + 5] = ts, x
    return np.zeros(idx.size, bool)


def _rate_while(st, idx, o, ts, x, p):
    """A reading of a rate_while predicate's metric (state layout: rules.kernels.predicates)."""
    gated = (st[idx, o + 4] <= ts) & (st[idx, o + 5] > p[6])
    pts, px = st[idx, o + 2], st[idx, o + 3]
    due = gated & ~np.isnan(pts)
    st[idx, o + 2] = np.where(gated, ts, np.nan)
    st[idx[gated], o + 3] = x[gated]
    flip = np.zeros(idx.size, bool)
    if not due.any():
        return flip
    rows, t, n = idx[due], ts[due], int(p[5])
    head = st[rows, o + 6].astype(np.int64)
    st[rows, o + 8 + head] = t
    st[rows, o + 8 + n + head] = (x[due] - px[due]) * 1000.0 / (t - pts[due])
    st[rows, o + 6] = (head + 1) % n
    st[rows, o + 7] += 1.0
    times, rates = st[rows, o + 8:o + 8 + n], st[rows, o + 8 + n:o + 8 + 2 * n]
    inside = (times > (t - p[3])[:, None]) & (times <= t[:, None])
    enough = inside.sum(axis=1) >= p[4]
    if enough.any():
        med = np.nanmedian(np.where(inside, rates, np.nan)[enough], axis=1)
        st[rows[enough], o + 1] = med
        flip[np.flatnonzero(due)[enough]] = _hyst(st, rows[enough], o, _dir(med, p[2]),
                                                  p[0], p[1])
    return flip


STEPS = {THRESHOLD: _threshold, RATE: _rate, EWMA_Z: _ewma, ROBUST_Z: _robust,
         CUSUM: _cusum, TREND: _trend, STUCK: _stuck, RATE_WHILE: _rate_while}


class NumpyEvaluator:
    """Vectorised evaluation of the telemetry predicates and rules of a compiled rule set."""

    def __init__(self, compiled: CompiledRules, slot_model: np.ndarray) -> None:
        self.c = compiled
        self.slot_model = np.asarray(slot_model, np.int64)
        n = self.slot_model.size
        self.st = compiled.templates()[self.slot_model]
        self.p = compiled.program
        self.wm = np.full((n, self.p.mp_start.shape[1] - 1), NO_TIME, np.int64)
        self.transitions = 0
        pm = compiled.pred_model
        # (predicate, model, metric id, step); a rate_while predicate is stepped by its metric
        # and, to record the gate's latest sample, by its gate (metric id in prm 7)
        self.preds = [(p, int(pm[p]), int(self._metric(p)), STEPS[int(self.p.kind[p])])
                      for p in range(len(self.p.kind)) if int(self.p.kind[p]) in STEPS]
        self.preds += [(p, int(pm[p]), int(self.p.prm[p, 7]), _gate)
                       for p in range(len(self.p.kind)) if int(self.p.kind[p]) == RATE_WHILE]

    def _metric(self, p: int) -> int:
        m = self.c.pred_model[p]
        row = self.p.mp_start[m]
        gate = int(self.p.prm[p, 7]) if int(self.p.kind[p]) == RATE_WHILE else -1
        for mt in range(row.size - 1):
            if mt != gate and p in self.p.mp_preds[row[mt]:row[mt + 1]]:
                return mt
        return -1

    def _rule(self, r: int, rows: np.ndarray) -> np.ndarray:
        c, stack = self.p, []
        for op in c.prog[c.prog_start[r]:c.prog_start[r] + c.prog_len[r]]:
            if op >= 0:
                stack.append(self.st[rows, c.pred_off[op]] != 0)
            elif op == OP_NOT:
                stack.append(~stack.pop())
            else:
                b, a = stack.pop(), stack.pop()
                stack.append(a & b if op == OP_AND else a | b)
        return stack[0]

    def step(self, ts: np.ndarray, slot: np.ndarray, metric: np.ndarray,
             value: np.ndarray) -> None:
        """Advance by one step: `slot` must not repeat within it."""
        model = self.slot_model[slot]
        fresh = (ts > self.wm[slot, metric]) & ~np.isnan(value)
        self.wm[slot[fresh], metric[fresh]] = ts[fresh]
        pending: dict[int, list[np.ndarray]] = {}  # rule -> rows whose predicates flipped
        for p, m, mt, fn in self.preds:
            sel = fresh & (model == m) & (metric == mt)
            if not sel.any():
                continue
            idx = slot[sel]
            flip = fn(self.st, idx, int(self.p.pred_off[p]), ts[sel].astype(np.float64),
                      value[sel], self.p.prm[p])
            if flip.any():
                pending.setdefault(int(self.c.pred_rule[p]), []).append(idx[flip])
        # rules are re-run once all predicates of the step are updated, as in the kernel
        for r, parts in pending.items():
            rows = parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))
            new = self._rule(r, rows)
            off = int(self.p.rule_off[r])
            changed = new != (self.st[rows, off] != 0)
            self.st[rows, off] = new
            self.transitions += int(changed.sum())
