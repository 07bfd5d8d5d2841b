"""Appliance models and their error-code catalogs, loaded from the TOML files in `catalog/`.

Loading is all or nothing: every file is validated and the first problem is reported with the
file, the entry and the field; nothing is returned from a catalog with an error in it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

SEVERITIES = ("info", "warning", "error", "critical")


class CatalogError(ValueError):
    """A catalog file that cannot be loaded; the message names file, entry and field."""


@dataclass(frozen=True)
class Metric:
    """A telemetry metric of a model; `id` is its number in the binary protocol."""

    id: int
    name: str
    unit: str
    valid: tuple[float, float]
    typical: tuple[float, float]
    period_s: float


@dataclass(frozen=True)
class ErrorCode:
    """An entry of a model's error-code catalog."""

    code: str
    severity: str
    title: str
    meaning: str


@dataclass(frozen=True)
class Model:
    """An appliance model with its metrics and error codes."""

    id: str
    kind: str
    manufacturer: str
    name: str
    catalog_version: str
    metrics: tuple[Metric, ...]
    codes: tuple[ErrorCode, ...]

    def metric(self, name: str) -> Metric:
        """The metric called `name`."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"model {self.id} has no metric {name!r}")


def _field(where: str, table: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in table:
        raise CatalogError(f"{where}: field {key!r} is missing")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CatalogError(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _range(where: str, table: dict[str, Any], key: str) -> tuple[float, float]:
    value = _field(where, table, key, list)
    if len(value) != 2 or not all(isinstance(v, int | float) for v in value) or value[0] > value[1]:
        raise CatalogError(f"{where}: field {key!r} must be [low, high] with low <= high")
    return float(value[0]), float(value[1])


def parse_model(doc: dict[str, Any], source: str) -> Model:
    """Validate one parsed catalog document; raise CatalogError naming file, entry and field."""
    head = doc.get("model")
    if not isinstance(head, dict):
        raise CatalogError(f"{source}: [model]: table is missing")
    where = f"{source}: [model]"
    metrics: list[Metric] = []
    for i, raw in enumerate(doc.get("metrics", [])):
        mw = f"{source}: metrics[{i}]"
        metric = Metric(
            id=_field(mw, raw, "id", int),
            name=_field(mw, raw, "name", str),
            unit=_field(mw, raw, "unit", str),
            valid=_range(mw, raw, "valid"),
            typical=_range(mw, raw, "typical"),
            period_s=float(_field(mw, raw, "period_s", int | float)),
        )
        if not 0 < metric.id < 65536:
            raise CatalogError(f"{mw} ({metric.name}): field 'id' must be in 1..65535")
        if any(m.id == metric.id or m.name == metric.name for m in metrics):
            raise CatalogError(f"{mw} ({metric.name}): field 'id'/'name' repeats another metric")
        metrics.append(metric)
    if not metrics:
        raise CatalogError(f"{source}: metrics: a model needs at least one metric")
    codes: list[ErrorCode] = []
    for i, raw in enumerate(doc.get("codes", [])):
        cw = f"{source}: codes[{i}]"
        code = ErrorCode(
            code=_field(cw, raw, "code", str),
            severity=_field(cw, raw, "severity", str),
            title=_field(cw, raw, "title", str),
            meaning=_field(cw, raw, "meaning", str),
        )
        if code.severity not in SEVERITIES:
            raise CatalogError(f"{cw} ({code.code}): field 'severity' must be one of {SEVERITIES}")
        if any(c.code == code.code for c in codes):
            raise CatalogError(f"{cw} ({code.code}): field 'code' repeats another entry")
        codes.append(code)
    return Model(
        id=_field(where, head, "id", str),
        kind=_field(where, head, "kind", str),
        manufacturer=_field(where, head, "manufacturer", str),
        name=_field(where, head, "name", str),
        catalog_version=_field(where, head, "catalog_version", str),
        metrics=tuple(metrics),
        codes=tuple(codes),
    )


def load_catalog(directory: Path | None = None) -> dict[str, Model]:
    """Load every `*.toml` model file (default: the packaged catalog); all or nothing."""
    root = resources.files("devices") / "catalog" if directory is None else directory
    models: dict[str, Model] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            doc = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{entry.name}: not valid TOML: {exc}") from None
        model = parse_model(doc, entry.name)
        if model.id in models:
            raise CatalogError(f"{entry.name}: [model]: field 'id' {model.id!r} is used twice")
        models[model.id] = model
    return models
