"""Rule packs from TOML, validated against the appliance catalog.

A file names its model and holds `[[rules]]`; each rule has a `[rules.when]` condition: one
leaf kind (threshold, rate, rate_while, ewma_z, robust_z, cusum, trend, stuck, silent,
error_count) or
`all` / `any` (arrays of conditions) or `not` (one condition). Every error names the file, the
rule and the field.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from devices.catalog import Model
from rules.leaves import LEAVES, RuleError
from rules.model import ACTIONS, MEANINGS, SEVERITIES, All, AnyOf, Condition, Not, Rule

__all__ = ["RuleError", "load_pack", "load_packs", "parse_pack"]


def _condition(where: str, raw: Any, model: Model) -> Condition:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise RuleError(f"{where}: a condition is a table with exactly one key "
                        f"(a predicate kind, 'all', 'any' or 'not')")
    (key, body), = raw.items()
    here = f"{where}.{key}"
    if key in ("all", "any"):
        if not isinstance(body, list) or not body:
            raise RuleError(f"{here}: must be a non-empty array of conditions")
        args = tuple(_condition(f"{here}[{i}]", c, model) for i, c in enumerate(body))
        return All(args) if key == "all" else AnyOf(args)
    if key == "not":
        return Not(_condition(here, body, model))
    if key not in LEAVES:
        raise RuleError(f"{here}: unknown condition kind {key!r}; known: "
                        f"{', '.join(sorted(LEAVES))}, all, any, not")
    if not isinstance(body, dict):
        raise RuleError(f"{here}: must be a table of parameters")
    return LEAVES[key](here, dict(body), model)


def _text(where: str, raw: dict[str, Any], key: str, choices: tuple[str, ...] = ()) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise RuleError(f"{where}: field {key!r} is missing or not a string")
    if choices and value not in choices:
        raise RuleError(f"{where}: field {key!r} must be one of {', '.join(choices)}")
    return value


def parse_pack(doc: dict[str, Any], source: str, catalog: dict[str, Model]) -> list[Rule]:
    """Validate one parsed rule file against the catalog."""
    model_id = doc.get("model")
    if not isinstance(model_id, str) or model_id not in catalog:
        raise RuleError(f"{source}: field 'model' must name a catalog model "
                        f"({', '.join(sorted(catalog))})")
    model = catalog[model_id]
    codes = {c.code for c in model.codes}
    rules: list[Rule] = []
    for i, raw in enumerate(doc.get("rules", [])):
        rid = raw.get("id") if isinstance(raw, dict) else None
        where = f"{source}: rule {rid!r}" if isinstance(rid, str) else f"{source}: rules[{i}]"
        if not isinstance(rid, str) or not rid:
            raise RuleError(f"{where}: field 'id' is missing or not a string")
        known = {"id", "fault", "meaning", "severity", "action", "title", "when"}
        extra = set(raw) - known
        if extra:
            raise RuleError(f"{where}: unknown field {sorted(extra)[0]!r}")
        fault = _text(where, raw, "fault")
        if fault not in codes:
            raise RuleError(f"{where}: field 'fault' {fault!r} is not an error code of "
                            f"{model_id} ({', '.join(sorted(codes))})")
        if "when" not in raw:
            raise RuleError(f"{where}: field 'when' is missing")
        rule = Rule(
            id=rid, model=model_id, fault=fault,
            meaning=_text(where, raw, "meaning", MEANINGS),
            severity=_text(where, raw, "severity", SEVERITIES),
            action=_text(where, raw, "action", ACTIONS),
            title=_text(where, raw, "title"),
            when=_condition(f"{where}: field 'when'", raw["when"], model),
            source=source,
        )
        if any(r.id == rid for r in rules):
            raise RuleError(f"{where}: field 'id' repeats another rule of this file")
        rules.append(rule)
    return rules


def load_pack(path: Path, catalog: dict[str, Model]) -> list[Rule]:
    """Load and validate one rule file."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path.name}: not valid TOML: {exc}") from None
    return parse_pack(doc, path.name, catalog)


def load_packs(catalog: dict[str, Model], directory: Path | None = None) -> list[Rule]:
    """Every `*.toml` pack in `directory` (default: the packaged `rules/packs`); all or nothing."""
    root = Path(str(resources.files("rules") / "packs")) if directory is None else directory
    rules: list[Rule] = []
    for path in sorted(root.glob("*.toml")):
        for rule in load_pack(path, catalog):
            if any(r.id == rule.id and r.model == rule.model for r in rules):
                raise RuleError(f"{path.name}: rule {rule.id!r}: field 'id' is used twice "
                                f"for model {rule.model}")
            rules.append(rule)
    return rules
