"""Time- and event-driven kernels: silent devices, error-code counts and their expiry.

Same state layout and output columns as `rules.kernels.batch.evaluate`; these run once per
batch (tick) or per error event, so they may call helpers that take arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rules.kernels.batch import OP_AND, OP_NOT
from rules.kernels.predicates import ERROR_COUNT, SILENT, check_error_count


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
def tick(now, start, slot_model, seen, tbits, due, st, kind, prm, pred_off, mt_start, mt_preds,
         pr_start, pr_rules, prog, prog_start, prog_len, rule_off, max_rules, stack,
         out_slot, out_rule, out_ts, out_on, out_value, out_score, out_metric):
    """Time-driven predicates of every slot at event time `now`.

    It reads compact per-slot arrays and touches a slot's state row only when something may
    change: `seen` (last reading time), `tbits` (bit k: the model's k-th timed predicate is
    on, for silent ones) and `due` (earliest time an error count may drop)."""
    cap = out_slot.shape[0]
    n_out = 0
    for s in range(start, slot_model.shape[0]):
        if n_out + 2 * max_rules > cap:
            return s, n_out
        m = slot_model[s]
        if m < 0:
            continue
        check_counts = due[s] <= now
        if check_counts:
            due[s] = np.inf
        for k in range(mt_start[m], mt_start[m + 1]):
            p = mt_preds[k]
            o = pred_off[p]
            bit = np.int64(1) << (k - mt_start[m])
            if kind[p] == SILENT:
                on = seen[s] > -1.0 and now - seen[s] > prm[p, 0]
                if on == ((tbits[s] & bit) != 0):
                    continue
                tbits[s] ^= bit
                st[s, o + 1] = (now - seen[s]) / 1000.0
            else:
                if not check_counts:
                    continue
                inside = 0
                for j in range(int(prm[p, 0])):
                    e = st[s, o + 3 + j]
                    if e > now - prm[p, 1] and e <= now:
                        inside += 1
                        due[s] = min(due[s], e + prm[p, 1])
                st[s, o + 1] = inside
                on = inside >= prm[p, 0]
                if on == (st[s, o] != 0.0):
                    continue
            st[s, o] = 1.0 if on else 0.0
            n_out = _rules_of(p, s, now, math.nan, -1, st, pred_off, pr_start, pr_rules,
                              prog, prog_start, prog_len, rule_off, stack, out_slot,
                              out_rule, out_ts, out_on, out_value, out_score, out_metric, n_out)
    return slot_model.shape[0], n_out


@njit(cache=True)
def events(ts, slot, code, start, slot_model, due, st, kind, prm, pred_off, mt_start, mt_preds,
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
            due[s] = min(due[s], ts[i] + prm[p, 1])
            if check_error_count(st, s, pred_off[p], ts[i], prm, p, True):
                n_out = _rules_of(p, s, ts[i], math.nan, -1, st, pred_off, pr_start,
                                  pr_rules, prog, prog_start, prog_len, rule_off, stack,
                                  out_slot, out_rule, out_ts, out_on, out_value, out_score,
                                  out_metric, n_out)
    return ts.shape[0], n_out
