"""The levels the shipped rules watch per model and metric (pure, from the rule packs): what a
chart draws as threshold lines, and which rules estimate a remaining life (trends)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from devices.catalog import load_catalog
from rules.loader import load_packs
from rules.model import Rule, predicates


@dataclass(frozen=True)
class Limit:
    """A level a rule acts on: the metric, the value, and which rule says so."""

    metric: str
    value: float
    rule_id: str
    kind: str  # threshold | trend


def limits_of(rules: list[Rule]) -> dict[tuple[str, str], list[Limit]]:
    """Limits per (model, metric name) of threshold and trend predicates."""
    out: dict[tuple[str, str], list[Limit]] = {}
    for r in rules:
        for p in predicates(r.when):
            if p.metric is not None and p.kind in ("threshold", "trend"):
                limit = Limit(p.metric, float(p.params[0]), r.id, p.kind)
                if limit not in out.get((r.model, p.metric), []):
                    out.setdefault((r.model, p.metric), []).append(limit)
    return out


@functools.lru_cache(maxsize=1)
def _shipped() -> tuple[dict[tuple[str, str], list[Limit]], dict[tuple[str, str], Rule]]:
    rules = load_packs(load_catalog())
    return limits_of(rules), {(r.model, r.id): r for r in rules}


def metric_limits(model_id: str, metric: str) -> list[Limit]:
    """The shipped rules' levels on one metric of a model."""
    return list(_shipped()[0].get((model_id, metric), []))


def trend_rule(model_id: str, rule_id: str) -> Limit | None:
    """The trend limit of a model's shipped rule (its score is the days left), None if the
    rule is not a trend."""
    rule = _shipped()[1].get((model_id, rule_id))
    if rule is None:
        return None
    return next((Limit(p.metric or "", float(p.params[0]), rule.id, "trend")
                 for p in predicates(rule.when) if p.kind == "trend"), None)
