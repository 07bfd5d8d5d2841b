"""The compiler's limits: what it refuses, with errors naming the rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devices.catalog import load_catalog
from rules.compiler import compile_rules, stack_depth
from rules.kernels.program import STACK_DEPTH
from rules.leaves import RuleError
from rules.loader import load_packs
from rules.model import All, AnyOf, Condition, Not, predicates


def _nested(leaf: Condition, depth: int) -> Condition:
    """A condition whose postfix program needs `depth` stack entries: (a and (a or (a ...)))."""
    cond = leaf
    for i in range(depth - 1):
        cond = (All if i % 2 else AnyOf)((leaf, Not(cond)))
    return cond


def test_programs_deeper_than_the_evaluation_stack_are_refused_naming_the_rule() -> None:
    catalog = load_catalog()
    rules = load_packs(catalog)
    leaf = next(iter(predicates(rules[0].when)))
    fits = replace(rules[0], id="deep_but_fits", when=_nested(leaf, STACK_DEPTH))
    too_deep = replace(rules[0], id="far_too_deep", when=_nested(leaf, STACK_DEPTH + 1))
    compiled = compile_rules([*rules, fits], catalog)
    r = len(rules)
    start, n = int(compiled.program.prog_start[r]), int(compiled.program.prog_len[r])
    assert stack_depth(compiled.program.prog[start:start + n].tolist()) == STACK_DEPTH
    with pytest.raises(RuleError, match=r"rule far_too_deep: .* 65 deep, more than the 64"):
        compile_rules([*rules, too_deep], catalog)
