"""Validate a parsed catalog document into a `Model`, collecting every problem.

Each problem reads `file: entry: field 'name': what is wrong`, for example
`wm800.toml: codes[2] (E90): field 'text.de.title': is missing`.
"""

from __future__ import annotations

from typing import Any

from devices.catalogmodel import (
    KINDS,
    LANGUAGES,
    SEVERITIES,
    SKILLS,
    Catalog,
    CatalogError,
    CodeText,
    ErrorCode,
    Metric,
    Model,
    firmware_key,
)

_MISSING = object()


class _Checker:
    """Reads typed fields and records problems instead of stopping at the first."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, where: str, key: str, what: str) -> None:
        self.problems.append(f"{self.source}: {where}: field {key!r}: {what}")

    def get(self, where: str, table: Any, key: str, kind: type | tuple[type, ...],
            default: Any = _MISSING) -> Any:
        if not isinstance(table, dict):
            self.problems.append(f"{self.source}: {where}: must be a table")
            return None
        if key not in table:
            if default is _MISSING:
                self.fail(where, key, "is missing")
                return None
            return default
        value = table[key]
        bad_bool = isinstance(value, bool) and bool not in _kinds(kind)
        if not isinstance(value, kind) or bad_bool:
            names = "/".join(k.__name__ for k in _kinds(kind))
            self.fail(where, key, f"must be {names}, not {type(value).__name__}")
            return None
        if isinstance(value, str) and not value.strip() and default is _MISSING:
            self.fail(where, key, "is empty")
            return None
        return value

    def range(self, where: str, table: Any, key: str) -> tuple[float, float]:
        value = self.get(where, table, key, list)
        if value is None:
            return (0.0, 0.0)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        if len(value) != 2 or not numbers or value[0] > value[1]:
            self.fail(where, key, "must be [low, high] with low <= high")
            return (0.0, 0.0)
        return float(value[0]), float(value[1])

    def strings(self, where: str, table: Any, key: str, *, required: bool) -> tuple[str, ...]:
        value = self.get(where, table, key, list, _MISSING if required else [])
        if value is None:
            return ()
        if not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(where, key, "must be a list of non-empty strings")
            return ()
        return tuple(value)


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _metrics(c: _Checker, doc: dict[str, Any]) -> tuple[Metric, ...]:
    metrics: list[Metric] = []
    for i, raw in enumerate(c.get("metrics", doc, "metrics", list, [])):
        name = raw.get("name", "?") if isinstance(raw, dict) else "?"
        where = f"metrics[{i}] ({name})"
        before = len(c.problems)
        metric = Metric(
            id=c.get(where, raw, "id", int), name=c.get(where, raw, "name", str),
            unit=c.get(where, raw, "unit", str, ""),
            valid=c.range(where, raw, "valid"), typical=c.range(where, raw, "typical"),
            period_s=float(c.get(where, raw, "period_s", (int, float)) or 0),
            description=c.get(where, raw, "description", str, "") or "",
        )
        if len(c.problems) > before:
            continue
        if not 0 < metric.id < 65536:
            c.fail(where, "id", "must be in 1..65535")
        elif any(m.id == metric.id for m in metrics):
            c.fail(where, "id", f"{metric.id} is used by another metric")
        elif any(m.name == metric.name for m in metrics):
            c.fail(where, "name", "repeats another metric")
        elif metric.period_s < 0:
            c.fail(where, "period_s", "must be >= 0 (0: once per cycle)")
        elif not (metric.valid[0] <= metric.typical[0] and metric.typical[1] <= metric.valid[1]):
            c.fail(where, "typical", "must lie inside the valid range")
        else:
            metrics.append(metric)
    if not metrics and not c.problems:
        c.problems.append(f"{c.source}: metrics: a model needs at least one metric")
    return tuple(metrics)


def _catalogs(c: _Checker, doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    raw_list = c.get("catalogs", doc, "catalogs", list)
    for i, raw in enumerate(raw_list or []):
        where = f"catalogs[{i}]"
        version = c.get(where, raw, "version", str)
        fw = c.get(where, raw, "firmware", list)
        if version is None or fw is None:
            continue
        if len(fw) != 2 or not all(isinstance(v, str) for v in fw):
            c.fail(where, "firmware", 'must be ["min", "max"] ("" as max: no upper bound)')
            continue
        try:
            low = firmware_key(fw[0])
            if fw[1] and firmware_key(fw[1]) <= low:
                c.fail(where, "firmware", "max must be greater than min")
                continue
        except ValueError as exc:
            c.fail(where, "firmware", str(exc))
            continue
        if any(v == version for v, _, _ in found):
            c.fail(where, "version", f"{version!r} is used twice")
            continue
        if found and (not found[-1][2] or firmware_key(found[-1][2]) > low):
            c.fail(where, "firmware", "ranges must be in order and must not overlap")
            continue
        found.append((version, fw[0], fw[1]))
    if raw_list is not None and not raw_list:
        c.fail("catalogs", "catalogs", "a model needs at least one catalog version")
    return found


def _texts(c: _Checker, where: str, raw: Any, fixable: bool,
           urgent: bool = False) -> dict[str, CodeText]:
    texts: dict[str, CodeText] = {}
    table = c.get(where, raw, "text", dict)
    if table is None:
        return texts
    for lang in table:
        if lang not in LANGUAGES:
            c.fail(where, f"text.{lang}", f"language must be one of {', '.join(LANGUAGES)}")
    for lang in LANGUAGES:
        if lang not in table:
            c.fail(where, f"text.{lang}", "is missing")
            continue
        t = table[lang]
        before = len(c.problems)
        title = c.get(f"{where}: text.{lang}", t, "title", str)
        meaning = c.get(f"{where}: text.{lang}", t, "meaning", str)
        steps = c.strings(f"{where}: text.{lang}", t, "steps", required=fixable)
        if fixable and not steps and len(c.problems) == before:
            c.fail(f"{where}: text.{lang}", "steps", "a customer-fixable code needs steps")
        # an urgent email tells the customer how to stay safe: that advice is the catalog's
        safety = c.get(f"{where}: text.{lang}", t, "safety", str, "")
        if urgent and not (safety or "").strip() and len(c.problems) == before:
            c.fail(f"{where}: text.{lang}", "safety", "an urgent code needs safety advice")
        if len(c.problems) == before:
            texts[lang] = CodeText(title, meaning, steps, (safety or "").strip())
    return texts


def _codes(c: _Checker, doc: dict[str, Any], versions: list[str]) -> list[ErrorCode]:
    codes: list[ErrorCode] = []
    for i, raw in enumerate(c.get("codes", doc, "codes", list, [])):
        name = raw.get("code", "?") if isinstance(raw, dict) else "?"
        where = f"codes[{i}] ({name})"
        before = len(c.problems)
        code = c.get(where, raw, "code", str)
        severity = c.get(where, raw, "severity", str)
        fixable = c.get(where, raw, "customer_fixable", bool)
        urgent = c.get(where, raw, "urgent", bool)
        skill = c.get(where, raw, "skill", str)
        parts = c.strings(where, raw, "parts", required=False)
        minutes = c.get(where, raw, "visit_minutes", int)
        since = c.get(where, raw, "since", str, "")
        until = c.get(where, raw, "until", str, "")
        texts = _texts(c, where, raw, bool(fixable), bool(urgent))
        if severity is not None and severity not in SEVERITIES:
            c.fail(where, "severity", f"must be one of {', '.join(SEVERITIES)}")
        if skill is not None and skill not in SKILLS:
            c.fail(where, "skill", f"must be one of {', '.join(SKILLS)}")
        if minutes is not None and not 0 < minutes <= 600:
            c.fail(where, "visit_minutes", "must be in 1..600")
        for key, value in (("since", since), ("until", until)):
            if value and versions and value not in versions:
                c.fail(where, key, f"{value!r} is not a catalog version of this model")
        if code is not None and any(x.code == code for x in codes):
            c.fail(where, "code", "repeats another entry")
        if len(c.problems) > before:
            continue
        en = texts["en"]
        codes.append(ErrorCode(
            code=code, severity=severity, title=en.title, meaning=en.meaning,
            customer_fixable=fixable, urgent=urgent, skill=skill, parts=parts,
            visit_minutes=minutes, texts=tuple(sorted(texts.items())), since=since, until=until,
        ))
    return codes


def parse_document(doc: dict[str, Any], source: str) -> Model:
    """Validate one parsed TOML document; raise CatalogError listing every problem."""
    c = _Checker(source)
    head = doc.get("model")
    if not isinstance(head, dict):
        raise CatalogError(f"{source}: [model]: table is missing")
    where = "[model]"
    ident = c.get(where, head, "id", str)
    kind = c.get(where, head, "kind", str)
    if kind is not None and kind not in KINDS:
        c.fail(where, "kind", f"must be one of {', '.join(KINDS)}")
    manufacturer = c.get(where, head, "manufacturer", str)
    name = c.get(where, head, "name", str)
    metrics = _metrics(c, doc)
    ranges = _catalogs(c, doc)
    versions = [v for v, _, _ in ranges]
    raw = doc.get("catalogs")
    declared = [r["version"] for r in raw if isinstance(r, dict) and isinstance(
        r.get("version"), str)] if isinstance(raw, list) else []
    codes = _codes(c, doc, declared)
    if c.problems:
        raise CatalogError(c.problems)
    catalogs = []
    for n, (version, low, high) in enumerate(ranges):
        def active(e: ErrorCode, n: int = n) -> bool:
            start = versions.index(e.since) if e.since else 0
            stop = versions.index(e.until) if e.until else len(versions)
            return start <= n < stop
        catalogs.append(Catalog(version, low, high, tuple(e for e in codes if active(e))))
    return Model(id=ident, kind=kind, manufacturer=manufacturer, name=name,
                 catalog_version=versions[-1], metrics=metrics, codes=tuple(codes),
                 catalogs=tuple(catalogs))
