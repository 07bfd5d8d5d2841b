"""Rules as typed values: what a rule file says once it has been validated."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("info", "warning", "error", "critical")
ACTIONS = ("self_help", "technician")
MEANINGS = ("prediction", "confirmation")


@dataclass(frozen=True)
class Predicate:
    """A leaf condition evaluated by one kernel: `params` is its kernel parameter row."""

    kind: str
    metric: str | None
    params: tuple[float, ...]
    code: str | None = None
    gate: str | None = None  # rate_while: the metric that must be on while `metric` is read


@dataclass(frozen=True)
class Not:
    """True when its argument is false."""

    arg: Condition


@dataclass(frozen=True)
class All:
    """True when every argument is true."""

    args: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """True when at least one argument is true."""

    args: tuple[Condition, ...]


Condition = Predicate | Not | All | AnyOf


@dataclass(frozen=True)
class Rule:
    """A named condition and what it means: the fault it predicts or confirms, and the action."""

    id: str
    model: str
    fault: str
    meaning: str
    severity: str
    action: str
    title: str
    when: Condition
    source: str = ""


def predicates(cond: Condition) -> list[Predicate]:
    """The leaves of a condition, left to right."""
    if isinstance(cond, Predicate):
        return [cond]
    if isinstance(cond, Not):
        return predicates(cond.arg)
    return [p for a in cond.args for p in predicates(a)]
