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


WH = ('model = "WH-200"\n[[rules]]\nid = "slow"\nfault = "W10"\nmeaning = "prediction"\n'
      'severity = "warning"\naction = "technician"\ntitle = "t"\n[rules.when]\n')


@pytest.mark.parametrize(("leaf", "message"), [
    ('metric = "tank_temp", gate = "flow", gate_above = 4, below = 0.18, per = "minute", '
     'window_s = 86400',
     r"wh200.toml: rule 'slow': field 'when'.rate_while: field 'gate' 'flow' is not a metric "
     r"of WH-200 \(tank_temp, "),
    ('metric = "tank_temp", gate = "tank_temp", gate_above = 4, below = 0.18, window_s = 60',
     r"rule 'slow': field 'when'.rate_while: field 'gate' must be another metric"),
    ('metric = "tank_temp", gate = "element_current", below = 0.18, window_s = 60',
     r"rule 'slow': field 'when'.rate_while: field 'gate_above' is missing"),
    ('metric = "tank_temp", gate = "element_current", gate_above = 4, below = 0.18, '
     'window_s = 86400, max_samples = 257',
     r"field 'when'.rate_while: field 'max_samples' must be within \[1, 256\]"),
    ('metric = "tank_temp", gate = "element_current", gate_above = 4, below = 0.18, '
     'window_s = 86400, max_samples = 32, min_samples = 40',
     r"field 'when'.rate_while: field 'min_samples' must be within \[1, 32\]"),
    ('metric = "tank_temp", gate = "element_current", gate_above = 4, below = 0.18, '
     'clear = 0.1, window_s = 86400',
     r"field 'when'.rate_while: field 'clear' must be on the safe side of 'below'"),
    ('metric = "tank_temp", gate = "element_current", gate_above = 4, below = 0.18, '
     'above = 0.5, window_s = 86400',
     r"field 'when'.rate_while: exactly one of fields above, below is needed"),
    ('metric = "tank_temp", gate = "element_current", gate_above = 4, below = 0.18',
     r"field 'when'.rate_while: field 'window_s' is missing"),
    ('metric = "tank_temp", gate = "element_current", gate_above = 4, below = 0.18, '
     'window_s = 86400, per = "week"',
     r"field 'when'.rate_while: field 'per' must be one of second, minute, hour, day"),
])
def test_rate_while_leaves_are_refused_naming_file_rule_and_field(leaf: str,
                                                                  message: str) -> None:
    import tomllib

    from rules.loader import parse_pack

    doc = tomllib.loads(WH + f"rate_while = {{ {leaf} }}")
    with pytest.raises(RuleError, match=message):
        parse_pack(doc, "wh200.toml", load_catalog())


def test_a_rate_while_predicate_is_stepped_by_its_metric_and_by_its_gate() -> None:
    import tomllib

    from rules.kernels.predicates import RATE_WHILE
    from rules.loader import parse_pack

    catalog = load_catalog()
    doc = tomllib.loads(WH + 'rate_while = { metric = "tank_temp", gate = "element_current", '
                        'gate_above = 4, below = 0.18, clear = 0.2, per = "minute", '
                        'window_s = 86400, min_samples = 40, max_samples = 128 }')
    compiled = compile_rules(parse_pack(doc, "wh200.toml", catalog), catalog)
    prog = compiled.program
    wh = catalog["WH-200"]
    temp, cur = wh.metric("tank_temp").id, wh.metric("element_current").id
    assert prog.kind.tolist() == [RATE_WHILE]
    assert prog.prm[0].tolist() == pytest.approx(
        [-0.18 / 60, -0.2 / 60, -1.0, 86_400_000.0, 40.0, 128.0, 4.0, float(cur)])
    for mt in (temp, cur):
        assert prog.mp_preds[prog.mp_start[0, mt]:prog.mp_start[0, mt + 1]].tolist() == [0]
    assert compiled.pred_size.tolist() == [8 + 2 * 128]
