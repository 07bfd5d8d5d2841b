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

from rules.config import SCALE_FLOOR
from rules.kernels.predicates import (
    CUSUM,
    ERROR_COUNT,
    EWMA_Z,
    RATE,
    ROBUST_Z,
    SILENT,
    STUCK,
    THRESHOLD,
    TREND,
    check_error_count,
    check_silent,
    directed,
)
from rules.kernels.predicates import robust_step as _robust
from rules.kernels.predicates import trend_step as _trend

OP_AND, OP_OR, OP_NOT = -1, -2, -3


@njit(cache=True)
def eval_rule(st, s, r, prog, prog_start, prog_len, pred_off, stack):
    """Run rule r's postfix program on slot s's predicate flags: 1 or 0."""
    top = 0
    for i in range(prog_start[r], prog_start[r] + prog_len[r]):
        op = prog[i]
        if op >= 0:
            stack[top] = 1 if st[s, pred_off[op]] != 0.0 else 0
            top += 1
        elif op == OP_NOT:
            stack[top - 1] = 1 - stack[top - 1]
        else:
            a = stack[top - 2]
            b = stack[top - 1]
            top -= 1
            stack[top - 1] = (a & b) if op == OP_AND else (a | b)
    return stack[0]


@njit(cache=True)
def _rules_of(p, s, ts, x, metric, st, pred_off, pr_start, pr_rules, prog, prog_start,
              prog_len, rule_off, stack, out_slot, out_rule, out_ts, out_on, out_value,
              out_score, out_metric, n_out):
    for k in range(pr_start[p], pr_start[p + 1]):
        r = pr_rules[k]
        v = eval_rule(st, s, r, prog, prog_start, prog_len, pred_off, stack)
        if v != (st[s, rule_off[r]] != 0.0):
            st[s, rule_off[r]] = float(v)
            out_slot[n_out] = s
            out_rule[n_out] = r
            out_ts[n_out] = ts
            out_on[n_out] = v
            out_value[n_out] = x
            out_score[n_out] = st[s, pred_off[p] + 1]
            out_metric[n_out] = metric
            n_out += 1
    return n_out


@njit(cache=True)
def evaluate(ts, device, metric, value, start, slot_of, slot_model, wm, last_seen, st, kind,
             prm, pred_off, mp_start, mp_preds, pr_start, pr_rules, prog, prog_start, prog_len,
             rule_off, max_rules, scratch, stack, counters, out_slot, out_rule, out_ts, out_on,
             out_value, out_score, out_metric):
    """Feed readings from `start` on; return (next reading, transitions written)."""
    n = ts.shape[0]
    cap = out_slot.shape[0]
    n_metric = mp_start.shape[1] - 1
    n_keys = slot_of.shape[0]
    n_out = 0
    for i in range(start, n):
        if n_out + max_rules > cap:
            return i, n_out
        d = device[i]
        s = slot_of[d] if 0 <= d < n_keys else 0
        m = slot_model[s]
        mt = metric[i]
        t = ts[i]
        x = value[i]
        if t > last_seen[s]:
            last_seen[s] = t
        if m < 0 or mt < 0 or mt >= n_metric or math.isnan(x):
            counters[1] += 1
            continue
        if t <= wm[s, mt]:
            counters[0] += 1
            continue
        wm[s, mt] = t
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
                _trend(st, s, o, t, x, prm, p)
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
            elif kd == ROBUST_Z:
                v = _robust(st, s, o, x, prm, p, scratch)
            if not math.isnan(v):
                on_col = 0 if kd == RATE else 1
                if was == 0.0:
                    if v >= prm[p, on_col]:
                        st[s, o] = 1.0
                elif not v >= prm[p, on_col + 1]:
                    st[s, o] = 0.0
            if st[s, o] != was:
                n_out = _rules_of(p, s, t, x, mt, st, pred_off, pr_start, pr_rules, prog,
                                  prog_start, prog_len, rule_off, stack, out_slot, out_rule,
                                  out_ts, out_on, out_value, out_score, out_metric, n_out)
    return n, n_out


@njit(cache=True)
def tick(now, start, slot_model, last_seen, st, kind, prm, pred_off, mt_start, mt_preds,
         pr_start, pr_rules, prog, prog_start, prog_len, rule_off, max_rules, stack,
         out_slot, out_rule, out_ts, out_on, out_value, out_score, out_metric):
    """Time-driven predicates (silent, error-count expiry) of every slot at event time `now`."""
    cap = out_slot.shape[0]
    n_out = 0
    for s in range(start, slot_model.shape[0]):
        if n_out + 2 * max_rules > cap:
            return s, n_out
        m = slot_model[s]
        if m < 0:
            continue
        for k in range(mt_start[m], mt_start[m + 1]):
            p = mt_preds[k]
            o = pred_off[p]
            if kind[p] == SILENT:
                flipped = check_silent(st, s, o, now, last_seen[s], prm, p)
            else:
                flipped = check_error_count(st, s, o, now, prm, p, False)
            if flipped:
                n_out = _rules_of(p, s, now, math.nan, -1, st, pred_off, pr_start, pr_rules,
                                  prog, prog_start, prog_len, rule_off, stack, out_slot,
                                  out_rule, out_ts, out_on, out_value, out_score, out_metric,
                                  n_out)
    return slot_model.shape[0], n_out


@njit(cache=True)
def events(ts, slot, code, start, slot_model, st, kind, prm, pred_off, mt_start, mt_preds,
           pr_start, pr_rules, prog, prog_start, prog_len, rule_off, max_rules, stack,
           out_slot, out_rule, out_ts, out_on, out_value, out_score, out_metric):
    """Error events (code as an index into the rule set's code table) into error_count."""
    cap = out_slot.shape[0]
    n_out = 0
    for i in range(start, ts.shape[0]):
        if n_out + 2 * max_rules > cap:
            return i, n_out
        s = slot[i]
        m = slot_model[s]
        if m < 0 or code[i] < 0:
            continue
        for k in range(mt_start[m], mt_start[m + 1]):
            p = mt_preds[k]
            if kind[p] != ERROR_COUNT or int(prm[p, 2]) != code[i]:
                continue
            if check_error_count(st, s, pred_off[p], ts[i], prm, p, True):
                n_out = _rules_of(p, s, ts[i], math.nan, -1, st, pred_off, pr_start,
                                  pr_rules, prog, prog_start, prog_len, rule_off, stack,
                                  out_slot, out_rule, out_ts, out_on, out_value, out_score,
                                  out_metric, n_out)
    return ts.shape[0], n_out
