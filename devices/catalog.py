"""Appliance models and their error-code catalogs, loaded from the TOML files in `catalog/`.

A model file holds the model, its telemetry metrics, its catalog versions (each for a firmware
range) and its error codes with texts in every language of `LANGUAGES`. Loading is all or
nothing: every file is validated, every problem is reported with the file, the entry and the
field, and nothing is returned from a catalog with an error in it. Pure: no I/O but reading
the files.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

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
from devices.catalogparse import parse_document

__all__ = [
    "KINDS", "LANGUAGES", "SEVERITIES", "SKILLS", "Catalog", "CatalogError", "CodeText",
    "ErrorCode", "Metric", "Model", "firmware_key", "load_catalog", "parse_model",
]


def parse_model(doc: dict[str, object], source: str) -> Model:
    """Validate one parsed catalog document; raise CatalogError naming file, entry and field."""
    return parse_document(doc, source)


def _read(entry: Traversable | Path) -> Model:
    try:
        doc = tomllib.loads(entry.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{entry.name}: not valid TOML: {exc}") from None
    return parse_document(doc, entry.name)


def load_catalog(directory: Path | None = None) -> dict[str, Model]:
    """Load every `*.toml` model file (default: the packaged catalog); all or nothing.

    Every file is checked; one CatalogError lists every problem found (`.problems`).
    """
    root = resources.files("devices") / "catalog" if directory is None else directory
    models: dict[str, Model] = {}
    problems: list[str] = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            model = _read(entry)
        except CatalogError as exc:
            problems.extend(exc.problems)
            continue
        if model.id in models:
            problems.append(f"{entry.name}: [model]: field 'id': {model.id!r} is used twice")
            continue
        models[model.id] = model
    if problems:
        raise CatalogError(problems)
    return models
