"""One predicate over one series through the real batch kernel: for tests and tools."""

from __future__ import annotations

import numpy as np
from numba import njit

from rules.kernels.batch import evaluate
from rules.kernels.predicates import init_pred
from rules.kernels.program import Program


def run_series(kind, ts, x, prm_row, size):
    """Feed (ts, x) in order to one predicate; its active flag and score after each row
    (score NaN for rows the engine does not feed: late or NaN)."""
    return run_gated_series(kind, ts, np.ones(ts.shape[0], np.int16), x, prm_row, size)


@njit(cache=True)
def run_gated_series(kind, ts, mid, x, prm_row, size):
    """Feed readings of two metrics (`mid` 0: the gate, 1: the metric; for rate_while
    prm_row[7], the gate's metric id, must be 0) in order to one predicate, registered under
    both; its flag and score after each row (score NaN for gate rows and rows the engine does
    not feed: late or NaN)."""
    n = ts.shape[0]
    head = 2  # watermarks of metrics 0 and 1
    st = np.zeros((2, head + size + 1))
    st[:, :head] = -np.inf
    seen = np.full(2, -1.0)
    widths = np.array([head + size + 1, head], np.int64)
    init_pred(st, 1, head, kind, size)
    prm = prm_row.reshape(1, -1).copy()
    kinds = np.array([kind], np.int64)
    zero = np.zeros(1, np.int64)
    one = np.ones(1, np.int64)
    mp_start = np.array([[0, 1, 2]], np.int64)
    mp_preds = np.zeros(2, np.int64)
    pr_start = np.array([0, 1], np.int64)
    rule_off = np.array([head + size], np.int64)
    pred_off = np.array([head], np.int64)
    slot_of = np.array([0, 1], np.int32)
    slot_model = np.array([-1, 0], np.int32)
    program = Program(kinds, prm, pred_off, mp_start, mp_preds, zero, zero, pr_start, zero,
                      zero, zero, one, rule_off, widths, 1)
    stack = np.zeros(8, np.int64)
    counters = np.zeros(2, np.int64)
    o_slot = np.empty(4, np.int32)
    o_rule = np.empty(4, np.int64)
    o_ts = np.empty(4, np.int64)
    o_on = np.empty(4, np.int8)
    o_val = np.empty(4)
    o_score = np.empty(4)
    o_metric = np.empty(4, np.int16)
    device = np.ones(1, np.int32)
    active = np.zeros(n, np.int8)
    score = np.full(n, np.nan)
    for i in range(n):
        before = counters[0] + counters[1]
        evaluate(ts[i:i + 1], device, mid[i:i + 1], x[i:i + 1], 0, slot_of, slot_model, seen,
                 st, program, stack, counters, o_slot, o_rule, o_ts, o_on, o_val, o_score,
                 o_metric)
        if counters[0] + counters[1] == before and mid[i] == 1:
            score[i] = st[1, head + 1]
        active[i] = st[1, head] != 0.0
    return active, score
