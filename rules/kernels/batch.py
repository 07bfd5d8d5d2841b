"""Evaluate a compiled rule set over a columnar batch: no Python per reading.

Per reading (ts int64 ms, slot int32, metric int16, value float64): the slot's model picks the
predicates of that metric (CSR `mp_*`); each one that flips re-evaluates the rules that use it
(CSR `pr_*`), whose conditions are postfix programs over predicate flags; a rule that flips
writes a transition to the `out_*` columns. A reading at or before its (slot, metric)
watermark is late: it is counted and skipped. The kernels stop early when `out` is full and
return where they stopped, so the caller can grow `out` and call again.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rules.config import MAD_TO_SIGMA, MAX_RATE_WHILE_SAMPLES, SCALE_FLOOR, TREND_CLEAR_FACTOR
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
    directed,
    rate_while_median,
    trend_days,
    trend_fit,
)
from rules.kernels.prefetch import prefetch

OP_AND, OP_OR, OP_NOT = -1, -2, -3
# each slot's row starts with one watermark per metric id (column = metric id)
PREFETCH = 16  # runs (consecutive readings of one device)


@njit(cache=True, error_model="numpy")
def evaluate(ts, device, metric, value, start, slot_of, slot_model, seen, st, program, stack,
             counters, out_slot, out_rule, out_ts, out_on, out_value, out_score, out_metric):
    """Feed readings from `start` on; return (next reading, transitions written).

    Readings (N, in time order per device): `ts` int64[N] Unix ms, `device` int32[N] device
    key, `metric` int16[N] catalog metric id, `value` float64[N] in the metric's unit.
    Devices: `slot_of` int32[keys] device key -> slot (0: unassigned), `slot_model` int32[S]
    model index (-1: none), `seen` float64[S] last reading ms (updated), `st` float64[S, width]
    the state rows (updated). `program`: the compiled rule set (`rules.kernels.program.Program`).
    `stack` int64[STACK_DEPTH]: room for the rule programs; `counters` int64[2]: late readings,
    skipped readings (updated). Out (capacity C, written from row 0): `out_slot` int32[C],
    `out_rule` int64[C], `out_ts` int64[C] ms, `out_on` int8[C], `out_value` float64[C] the
    reading, `out_score` float64[C] the flipping predicate's score, `out_metric` int16[C].
    """
    kind, prm, pred_off = program.kind, program.prm, program.pred_off
    mp_start, mp_preds = program.mp_start, program.mp_preds
    pr_start, pr_rules = program.pr_start, program.pr_rules
    prog, prog_start, prog_len = program.prog, program.prog_start, program.prog_len
    rule_off, model_width, max_rules = program.rule_off, program.model_width, program.max_rules
    n = ts.shape[0]
    cap = out_slot.shape[0]
    n_metric = mp_start.shape[1] - 1
    n_keys = slot_of.shape[0]
    n_out = 0
    flipped = np.empty(max(max_rules, 1), np.int64)  # predicates of this reading that flipped
    decay_dt = np.full(kind.shape[0], np.nan)  # per trend predicate: last dt (days) and
    decay_w = np.empty(kind.shape[0])          # its exp(-dt / tau)
    scratch = np.empty(MAX_RATE_WHILE_SAMPLES)  # a rate_while predicate's rates in its window
    # runs of consecutive readings of one device, from `start` on (no branch per reading)
    runs = np.empty(n - start + 1, np.int64)
    nr = 0
    if start < n:
        runs[0] = start
        nr = 1
        for i in range(start + 1, n):
            runs[nr] = i
            nr += device[i] != device[i - 1]
        runs[nr] = n
    for u in range(nr):
        # 100k devices' state fits in no cache: fetch what a run's device needs runs ahead,
        # in stages because each address depends on the load before it (device key -> slot
        # -> model and last seen -> state row)
        g = u + 2 * PREFETCH
        if g < nr:
            d2 = device[runs[g]]
            if 0 <= d2 < n_keys:
                prefetch(slot_of, d2)
        g = u + PREFETCH + PREFETCH // 2
        if g < nr:
            d2 = device[runs[g]]
            s2 = slot_of[d2] if 0 <= d2 < n_keys else 0
            prefetch(slot_model, s2)
            prefetch(seen, s2)
        g = u + PREFETCH
        if g < nr:
            d2 = device[runs[g]]
            s2 = slot_of[d2] if 0 <= d2 < n_keys else 0
            w = model_width[slot_model[s2]]
            for c in range(0, w, 8):  # its model's columns only
                prefetch(st, (s2, c))
            if w > 0:  # rows need not start on a cache line: the last may be one more
                prefetch(st, (s2, w - 1))
        d = device[runs[u]]
        s = slot_of[d] if 0 <= d < n_keys else 0
        m = slot_model[s]
        for i in range(runs[u], runs[u + 1]):
            if n_out + max_rules > cap:
                return i, n_out
            mt = metric[i]
            t = ts[i]
            x = value[i]
            if t > seen[s]:
                seen[s] = t
            if m < 0 or mt < 0 or mt >= n_metric or math.isnan(x):
                counters[1] += 1
                continue
            if t <= st[s, mt]:
                counters[0] += 1
                continue
            st[s, mt] = t
            n_flip = 0
            for k in range(mp_start[m, mt], mp_start[m, mt + 1]):
                p = mp_preds[k]
                o = pred_off[p]
                kd = kind[p]
                was = st[s, o]
                # v: the directed score of kinds with on/off hysteresis; nan: no decision
                v = np.nan
                if kd == THRESHOLD:
                    sign = prm[p, 3]
                    st[s, o + 1] = x
                    if was == 0.0:
                        if x * sign >= prm[p, 0] * sign:
                            if math.isnan(st[s, o + 2]):
                                st[s, o + 2] = t
                            if t - st[s, o + 2] >= prm[p, 2]:
                                st[s, o] = 1.0
                                st[s, o + 2] = np.nan
                        else:
                            st[s, o + 2] = np.nan
                    elif x * sign < prm[p, 1] * sign:
                        st[s, o] = 0.0
                elif kd == EWMA_Z:
                    mean = st[s, o + 2]
                    var = st[s, o + 3]
                    cnt = st[s, o + 4]
                    if cnt == 0.0:
                        st[s, o + 2] = x
                        st[s, o + 4] = 1.0
                    else:
                        z = (x - mean) / max(math.sqrt(var), SCALE_FLOOR * (1.0 + abs(mean)))
                        diff = x - mean
                        incr = prm[p, 0] * diff
                        st[s, o + 2] = mean + incr
                        st[s, o + 3] = (1.0 - prm[p, 0]) * (var + diff * incr)
                        st[s, o + 4] = cnt + 1.0
                        if cnt >= prm[p, 4]:
                            st[s, o + 1] = z
                            v = directed(z, prm[p, 3])
                elif kd == RATE:
                    pts = st[s, o + 2]
                    if math.isnan(pts):
                        st[s, o + 2] = t
                        st[s, o + 3] = x
                    elif t - pts >= max(prm[p, 3], 1.0):
                        rate = (x - st[s, o + 3]) * 1000.0 / (t - pts)
                        st[s, o + 2] = t
                        st[s, o + 3] = x
                        st[s, o + 1] = rate
                        v = directed(rate, prm[p, 2])
                elif kd == STUCK:
                    ref = st[s, o + 2]
                    if math.isnan(ref) or abs(x - ref) > prm[p, 0]:
                        st[s, o + 2] = x
                        st[s, o + 3] = t
                        st[s, o + 4] = 1.0
                    else:
                        st[s, o + 4] += 1.0
                    dur = t - st[s, o + 3]
                    st[s, o + 1] = dur / 1000.0
                    st[s, o] = 1.0 if (st[s, o + 4] >= prm[p, 2] and dur >= prm[p, 1]) else 0.0
                elif kd == TREND:
                    cnt = st[s, o + 8]
                    st[s, o + 8] = cnt + 1.0
                    if cnt == 0.0:
                        st[s, o + 2] = t
                        st[s, o + 3] = 1.0
                        st[s, o + 6] = x
                        st[s, o + 9] = x * x
                    else:
                        dt = (t - st[s, o + 2]) / MS_PER_DAY
                        # periodic metrics repeat their intervals: reuse the last decay of
                        # this predicate for the same dt (exp costs more than the whole fit)
                        if dt == decay_dt[p]:
                            w = decay_w[p]
                        else:
                            w = math.exp(-dt / prm[p, 2])
                            decay_dt[p] = dt
                            decay_w[p] = w
                        s0, s_t, s_tt, s_x, s_tx, s_xx = trend_fit(
                            dt, w, st[s, o + 3], st[s, o + 4], st[s, o + 5], st[s, o + 6],
                            st[s, o + 7], st[s, o + 9], x)
                        st[s, o + 2] = t
                        st[s, o + 3] = s0
                        st[s, o + 4] = s_t
                        st[s, o + 5] = s_tt
                        st[s, o + 6] = s_x
                        st[s, o + 7] = s_tx
                        st[s, o + 9] = s_xx
                        days = np.nan
                        if cnt + 1.0 >= prm[p, 4]:
                            days = trend_days(s0, s_t, s_tt, s_x, s_tx, s_xx, prm[p, 0], prm[p, 3],
                                              prm[p, 5], prm[p, 6])
                        if not math.isnan(days):
                            st[s, o + 1] = days
                            if was == 0.0:
                                if days <= prm[p, 1]:
                                    st[s, o] = 1.0
                            elif days > prm[p, 1] * TREND_CLEAR_FACTOR:
                                st[s, o] = 0.0
                elif kd == CUSUM:
                    cnt = st[s, o + 2]
                    mean = st[s, o + 3]
                    if cnt < prm[p, 4]:
                        cnt += 1.0
                        diff = x - mean
                        mean += diff / cnt
                        st[s, o + 2] = cnt
                        st[s, o + 3] = mean
                        st[s, o + 4] += diff * (x - mean)
                    else:
                        sd = math.sqrt(st[s, o + 4] / (cnt - 1.0)) if cnt > 1.0 else 0.0
                        r = (x - mean) / max(sd, SCALE_FLOOR * (1.0 + abs(mean)))
                        hi = max(0.0, st[s, o + 5] + r - prm[p, 0])
                        lo = max(0.0, st[s, o + 6] - r - prm[p, 0])
                        st[s, o + 5] = hi
                        st[s, o + 6] = lo
                        sign = prm[p, 3]
                        v = hi if sign > 0 else (lo if sign < 0 else max(hi, lo))
                        st[s, o + 1] = v
                elif kd == RATE_WHILE:
                    # registered under both its metric and its gate (prm 7): a gate reading
                    # only records the gate's latest sample; a metric reading taken while that
                    # sample (at or before it) is past the gate level adds the rate since the
                    # previous such reading, if that one was gated too
                    if mt == int(prm[p, 7]):
                        st[s, o + 4] = t
                        st[s, o + 5] = x
                    elif not (st[s, o + 4] <= t and st[s, o + 5] > prm[p, 6]):
                        st[s, o + 2] = np.nan  # not gated: the chain of gated samples breaks
                    else:
                        pts = st[s, o + 2]
                        st[s, o + 2] = t
                        if not math.isnan(pts):
                            rate = (x - st[s, o + 3]) * 1000.0 / (t - pts)
                            nr_ = int(prm[p, 5])
                            head = int(st[s, o + 6])
                            st[s, o + 8 + head] = t
                            st[s, o + 8 + nr_ + head] = rate
                            st[s, o + 6] = (head + 1) % nr_
                            st[s, o + 7] += 1.0
                            med, c = rate_while_median(st, s, o, t, prm[p, 3], nr_, scratch)
                            if c >= prm[p, 4]:
                                st[s, o + 1] = med
                                v = directed(med, prm[p, 2])
                        st[s, o + 3] = x
                elif kd == ROBUST_Z:
                    # state: count, head, ring[w], sorted[w]; median in O(1), MAD by merging
                    # the deviations on both sides of the median, window update in O(w)
                    w = int(prm[p, 0])
                    cnt = int(st[s, o + 2])
                    head = int(st[s, o + 3])
                    ring = o + 4
                    srt = o + 4 + w
                    c = min(cnt, w)
                    if c >= prm[p, 4] and c > 0:
                        h = c // 2
                        if c % 2 == 1:
                            med = st[s, srt + h]
                        else:
                            med = 0.5 * (st[s, srt + h - 1] + st[s, srt + h])
                        r0 = h
                        while r0 > 0 and st[s, srt + r0 - 1] >= med:
                            r0 -= 1
                        lo_i = r0 - 1
                        hi_i = r0
                        prev = 0.0
                        cur = 0.0
                        for _ in range(h + 1):
                            prev = cur
                            if lo_i >= 0 and (hi_i >= c or med - st[s, srt + lo_i]
                                              <= st[s, srt + hi_i] - med):
                                cur = med - st[s, srt + lo_i]
                                lo_i -= 1
                            else:
                                cur = st[s, srt + hi_i] - med
                                hi_i += 1
                        mad = cur if c % 2 == 1 else 0.5 * (prev + cur)
                        z = (x - med) / max(MAD_TO_SIGMA * mad, SCALE_FLOOR * (1.0 + abs(med)))
                        st[s, o + 1] = z
                        v = directed(z, prm[p, 3])
                    if cnt >= w:
                        # replace the oldest value by x in the sorted copy: find it by bisection,
                        # then slide x from its place to where x belongs
                        old = st[s, ring + head]
                        lo = 0
                        hi = w
                        while lo < hi:
                            mid = (lo + hi) // 2
                            if st[s, srt + mid] < old:
                                lo = mid + 1
                            else:
                                hi = mid
                        q = lo
                        while q + 1 < w and st[s, srt + q + 1] < x:
                            st[s, srt + q] = st[s, srt + q + 1]
                            q += 1
                        while q > 0 and st[s, srt + q - 1] > x:
                            st[s, srt + q] = st[s, srt + q - 1]
                            q -= 1
                    else:
                        q = c
                        while q > 0 and st[s, srt + q - 1] > x:
                            st[s, srt + q] = st[s, srt + q - 1]
                            q -= 1
                    st[s, srt + q] = x
                    st[s, ring + head] = x
                    st[s, o + 3] = (head + 1) % w
                    st[s, o + 2] = cnt + 1
                if not math.isnan(v):
                    on_col = 0 if kd in (RATE, RATE_WHILE) else 1
                    if was == 0.0:
                        if v >= prm[p, on_col]:
                            st[s, o] = 1.0
                    elif not v >= prm[p, on_col + 1]:
                        st[s, o] = 0.0
                if st[s, o] != was:
                    flipped[n_flip] = p
                    n_flip += 1
            # re-run the programs of the flipped predicates' rules once every predicate of this
            # reading is updated (two predicates over one metric flip together: a rule must not
            # see one new and one stale); inline: a call taking arrays costs more than all of this
            for f in range(n_flip):
                p = flipped[f]
                o = pred_off[p]
                for kk in range(pr_start[p], pr_start[p + 1]):
                    r = pr_rules[kk]
                    top = 0
                    for q in range(prog_start[r], prog_start[r] + prog_len[r]):
                        op = prog[q]
                        if op >= 0:
                            stack[top] = 1 if st[s, pred_off[op]] != 0.0 else 0
                            top += 1
                        elif op == OP_NOT:
                            stack[top - 1] = 1 - stack[top - 1]
                        else:
                            top -= 1
                            if op == OP_AND:
                                stack[top - 1] = stack[top - 1] & stack[top]
                            else:
                                stack[top - 1] = stack[top - 1] | stack[top]
                    rv = stack[0]
                    if rv != (st[s, rule_off[r]] != 0.0):
                        st[s, rule_off[r]] = float(rv)
                        out_slot[n_out] = s
                        out_rule[n_out] = r
                        out_ts[n_out] = t
                        out_on[n_out] = rv
                        out_value[n_out] = x
                        out_score[n_out] = st[s, o + 1]
                        out_metric[n_out] = mt
                        n_out += 1
    return n, n_out
