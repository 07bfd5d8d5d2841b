"""Compile validated rules into the flat arrays the batch kernels run on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devices.catalog import Model
from rules.kernels.batch import OP_AND, OP_NOT, OP_OR
from rules.kernels.predicates import (
    ERROR_COUNT,
    KIND_NAMES,
    RATE,
    RATE_WHILE,
    SILENT,
    STUCK,
    THRESHOLD,
    state_size,
)
from rules.kernels.program import STACK_DEPTH, Program
from rules.leaves import RuleError
from rules.model import All, AnyOf, Condition, Not, Predicate, Rule, predicates

LINE = 8  # float64 columns per 64-byte cache line


@dataclass
class CompiledRules:
    """A rule set as arrays: predicates, their state columns, lookups and rule programs."""

    rules: list[Rule]
    models: list[str]                 # model index -> model id
    codes: list[str]                  # code index -> error code (for error_count)
    pred_rule: np.ndarray             # int32[P]: the rule each predicate belongs to
    pred_metric_name: list[str | None]
    pred_size: np.ndarray             # int64[P]
    program: Program                  # what the kernels run (shapes, dtypes: see Program)
    width: int                        # state columns per slot (whole cache lines)
    head: int                         # leading columns: the watermark of each metric id

    def model_index(self, model_id: str) -> int:
        """Index of a model, -1 when no rule covers it."""
        return self.models.index(model_id) if model_id in self.models else -1

    def templates(self) -> np.ndarray:
        """float64[M + 1, width]: the empty state row of each model (last row: no model)."""
        rows = np.zeros((len(self.models) + 1, self.width))
        rows[:, :self.head] = -np.inf  # watermarks
        kind, pred_off = self.program.kind, self.program.pred_off
        for p, m in enumerate(self.pred_model.tolist()):
            o, k, size = int(pred_off[p]), int(kind[p]), int(self.pred_size[p])
            if k in (THRESHOLD, RATE, STUCK):
                rows[m, o + 2] = np.nan  # "no pending start / previous sample / run yet"
            elif k == ERROR_COUNT:
                rows[m, o + 3:o + size] = np.nan  # empty ring of event times
            elif k == RATE_WHILE:  # no previous gated sample, no gate sample, no rate times
                rows[m, [o + 2, o + 4]] = np.nan
                rows[m, o + 8:o + 8 + (size - 8) // 2] = np.nan
        return rows

    @property
    def pred_model(self) -> np.ndarray:
        """int64[P]: model index of each predicate."""
        return np.array([self.models.index(self.rules[r].model) for r in self.pred_rule],
                        dtype=np.int64)


def _program(cond: Condition, leaf_ids: list[int], out: list[int]) -> None:
    if isinstance(cond, Predicate):
        out.append(leaf_ids.pop(0))
    elif isinstance(cond, Not):
        _program(cond.arg, leaf_ids, out)
        out.append(OP_NOT)
    else:
        op = OP_AND if isinstance(cond, All) else OP_OR
        assert isinstance(cond, All | AnyOf)
        _program(cond.args[0], leaf_ids, out)
        for arg in cond.args[1:]:
            _program(arg, leaf_ids, out)
            out.append(op)


def stack_depth(prog: list[int]) -> int:
    """Entries a postfix program needs on the evaluation stack."""
    top = deepest = 0
    for op in prog:
        if op >= 0:
            top += 1
        elif op != OP_NOT:
            top -= 1
        deepest = max(deepest, top)
    return deepest


def compile_rules(rules: list[Rule], catalog: dict[str, Model]) -> CompiledRules:
    """Lay out predicates and rules per model; metric names become catalog metric ids."""
    models = sorted({r.model for r in rules})
    n_metric = 1 + max((m.id for mid in models for m in catalog[mid].metrics), default=0)
    codes = sorted({p.code for r in rules for p in predicates(r.when) if p.code})
    kind, prm, size, metric, pred_rule, names = [], [], [], [], [], []
    gate: list[int] = []  # rate_while: the gate's metric id (stepped on its readings too)
    rule_off, prog, prog_start, prog_len = [], [], [], []
    head = n_metric
    for ri, rule in enumerate(rules):
        ids = []
        for leaf in predicates(rule.when):
            row = np.zeros(8)
            row[:len(leaf.params)] = leaf.params
            k = KIND_NAMES.index(leaf.kind)
            if k == ERROR_COUNT:
                row[2] = codes.index(str(leaf.code))
            gate.append(catalog[rule.model].metric(leaf.gate).id if leaf.gate else -1)
            if k == RATE_WHILE:
                row[7] = gate[-1]
            ids.append(len(kind))
            kind.append(k)
            prm.append(row)
            size.append(state_size(k, row))
            metric.append(catalog[rule.model].metric(leaf.metric).id if leaf.metric else -1)
            pred_rule.append(ri)
            names.append(leaf.metric)
        prog_start.append(len(prog))
        _program(rule.when, list(ids), prog)
        prog_len.append(len(prog) - prog_start[-1])
        depth = stack_depth(prog[prog_start[-1]:])
        if depth > STACK_DEPTH:
            raise RuleError(f"rule {rule.id}: its condition nests {depth} deep, more than the "
                            f"{STACK_DEPTH} the evaluation stack holds; flatten all/any groups")
    # a model's columns: the watermarks, the predicates readings step (the kernel prefetches
    # these, `model_width`), the rules' flags (touched only when a predicate flips), then the
    # time- and event-driven predicates and the rate_while predicates (their ring of rates is
    # 2 x max_samples columns, 32 cache lines at 128: not prefetched with every run of the
    # device's readings); rows padded to whole 64-byte cache lines
    cold_kinds = (SILENT, ERROR_COUNT, RATE_WHILE)
    off = [0] * len(kind)
    used = dict.fromkeys(models, head)
    for p in range(len(kind)):
        if kind[p] not in cold_kinds:
            m = rules[pred_rule[p]].model
            off[p] = used[m]
            used[m] += size[p]
    hot = dict(used)
    for rule in rules:
        rule_off.append(used[rule.model])
        used[rule.model] += 1
    for p in range(len(kind)):
        if kind[p] in cold_kinds:
            m = rules[pred_rule[p]].model
            off[p] = used[m]
            used[m] += size[p]
    n_pred = len(kind)
    pmodel = [models.index(rules[r].model) for r in pred_rule]
    mp_start = np.zeros((len(models), n_metric + 1), np.int64)
    mp_preds: list[int] = []
    mt_start = np.zeros(len(models) + 1, np.int64)
    mt_preds: list[int] = []
    for m in range(len(models)):
        for mt in range(n_metric):
            mp_start[m, mt] = len(mp_preds)
            mp_preds += [p for p in range(n_pred)
                         if pmodel[p] == m and (metric[p] == mt or gate[p] == mt)]
        mp_start[m, n_metric] = len(mp_preds)
        mt_start[m] = len(mt_preds)
        mt_preds += [p for p in range(n_pred)
                     if pmodel[p] == m and kind[p] in (SILENT, ERROR_COUNT)]
    mt_start[len(models)] = len(mt_preds)
    timed = np.diff(mt_start)
    if timed.size and timed.max() > 63:  # their on/off bits share one int64 per device
        worst = models[int(np.argmax(timed))]
        raise ValueError(f"model {worst}: more than 63 silent/error_count predicates")
    pr_start = np.arange(n_pred + 1, dtype=np.int64)  # each predicate belongs to one rule
    per_metric = [len([p for p in range(n_pred)
                       if pmodel[p] == m and (metric[p] == mt or gate[p] == mt)])
                  for m in range(len(models)) for mt in range(n_metric)]
    return CompiledRules(
        rules=list(rules), models=models, codes=codes,
        pred_rule=np.array(pred_rule, np.int32), pred_metric_name=names,
        pred_size=np.array(size, np.int64),
        program=Program(
            kind=np.array(kind, np.int64), prm=np.array(prm, np.float64).reshape(-1, 8),
            pred_off=np.array(off, np.int64), mp_start=mp_start,
            mp_preds=np.array(mp_preds, np.int64), mt_start=mt_start,
            mt_preds=np.array(mt_preds, np.int64), pr_start=pr_start,
            pr_rules=np.array(pred_rule, np.int64), prog=np.array(prog, np.int64),
            prog_start=np.array(prog_start, np.int64), prog_len=np.array(prog_len, np.int64),
            rule_off=np.array(rule_off, np.int64),
            model_width=np.array([hot[m] for m in models] + [head], np.int64),
            max_rules=max([*per_metric, len(mt_preds), 1])),
        width=-(-max(used.values(), default=head) // LINE) * LINE, head=head,
    )
