"""A compiled rule set as the kernels read it: one tuple of flat arrays.

`Program` is a NamedTuple, which Numba passes into `njit` functions as one argument (typed by
its fields' types; cached compilations key on them). `rules.compiler.compile_rules` builds it.
Notation: P predicates, R rules, M models (a model index is a position in
`CompiledRules.models`), n_metric = 1 + the largest catalog metric id the rules' models use.
Times are Unix milliseconds; a device's state row `st[slot]` is float64 (see
`rules.kernels.predicates` for each predicate's columns and parameter units).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# the postfix evaluation stack every kernel runs rule programs on: the compiler refuses
# conditions that would need more (rules.compiler.stack_depth)
STACK_DEPTH = 64


class Program(NamedTuple):
    """The compiled predicates, their lookups and the rules' postfix programs."""

    kind: np.ndarray         # int64[P]: predicate kind (rules.kernels.predicates.THRESHOLD...)
    prm: np.ndarray          # float64[P, 8]: parameters, units per kind (ms, value units, days)
    pred_off: np.ndarray     # int64[P]: the predicate's first state column (its active flag)
    mp_start: np.ndarray     # int64[M, n_metric + 1]: CSR (model, metric id) -> mp_preds
    mp_preds: np.ndarray     # int64: reading-driven predicates, by (model, metric); a
                             # rate_while predicate is under its metric and its gate (prm 7)
    mt_start: np.ndarray     # int64[M + 1]: CSR model -> mt_preds
    mt_preds: np.ndarray     # int64: time- and event-driven predicates (silent, error_count)
    pr_start: np.ndarray     # int64[P + 1]: CSR predicate -> pr_rules
    pr_rules: np.ndarray     # int64: the rules each predicate feeds
    prog: np.ndarray         # int64: postfix programs; op >= 0 pushes that predicate's flag,
                             # OP_AND / OP_OR pop two and push one, OP_NOT flips the top
    prog_start: np.ndarray   # int64[R]: where rule r's program starts in `prog`
    prog_len: np.ndarray     # int64[R]: its length
    rule_off: np.ndarray     # int64[R]: the rule's own active-flag column
    model_width: np.ndarray  # int64[M + 1]: leading state columns readings step (last: no model)
    max_rules: int           # most predicates one reading steps (or a tick checks): out rows
                             # to keep free, and the kernel's room for flipped predicates
