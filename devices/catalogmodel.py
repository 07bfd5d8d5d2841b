"""Catalog value types: metrics, error codes with texts per language, catalog versions, models.

Pure values; parsing lives in `devices.catalogparse`, loading in `devices.catalog`.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("info", "warning", "error", "critical")
LANGUAGES = ("en", "de")
KINDS = ("washer", "dryer", "dishwasher", "fridge", "heat_pump", "water_heater")
SKILLS = ("appliance", "electrical", "plumbing", "refrigeration", "heating")


class CatalogError(ValueError):
    """A catalog that cannot be loaded; each problem names file, entry and field."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems) if len(self.problems) < 2 else
                         f"{len(self.problems)} problems in the catalog:\n  "
                         + "\n  ".join(self.problems))


@dataclass(frozen=True)
class Metric:
    """A telemetry metric of a model; `id` is its number in the binary protocol."""

    id: int
    name: str
    unit: str
    valid: tuple[float, float]
    typical: tuple[float, float]
    period_s: float
    description: str = ""


@dataclass(frozen=True)
class CodeText:
    """An error code's texts in one language: numbered self-help `steps`, `safety` advice."""

    title: str
    meaning: str
    steps: tuple[str, ...] = ()
    safety: str = ""


@dataclass(frozen=True)
class ErrorCode:
    """An entry of a model's error-code catalog; `title`/`meaning` are the English texts."""

    code: str
    severity: str
    title: str
    meaning: str
    customer_fixable: bool = False
    urgent: bool = False
    skill: str = "appliance"
    parts: tuple[str, ...] = ()
    visit_minutes: int = 60
    texts: tuple[tuple[str, CodeText], ...] = ()
    since: str = ""
    until: str = ""

    def text(self, language: str) -> CodeText:
        """The texts in `language`, falling back to English."""
        found = dict(self.texts)
        return found.get(language) or found.get("en") or CodeText(self.title, self.meaning)

    def steps(self, language: str = "en") -> tuple[str, ...]:
        """The self-help steps in `language` (empty when a technician is needed)."""
        return self.text(language).steps


@dataclass(frozen=True)
class Catalog:
    """One version of a model's code catalog, valid for firmware in [firmware_min, firmware_max).

    An empty `firmware_max` means no upper bound.
    """

    version: str
    firmware_min: str
    firmware_max: str
    codes: tuple[ErrorCode, ...]

    def covers(self, firmware: str) -> bool:
        """Whether a device running `firmware` uses this catalog."""
        key = firmware_key(firmware)
        if key < firmware_key(self.firmware_min):
            return False
        return not self.firmware_max or key < firmware_key(self.firmware_max)

    def code(self, code: str) -> ErrorCode | None:
        """The entry for `code`, if this catalog has one."""
        return next((c for c in self.codes if c.code == code), None)


@dataclass(frozen=True)
class Model:
    """An appliance model with its metrics and error codes.

    `codes` holds every code of every catalog version (what ingest needs to call a code known);
    `catalogs` holds the versions per firmware range; `catalog_version` is the newest version.
    """

    id: str
    kind: str
    manufacturer: str
    name: str
    catalog_version: str
    metrics: tuple[Metric, ...]
    codes: tuple[ErrorCode, ...]
    catalogs: tuple[Catalog, ...] = ()

    def metric(self, name: str) -> Metric:
        """The metric called `name`."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"model {self.id} has no metric {name!r}")

    def catalog_for(self, firmware: str | None = None) -> Catalog:
        """The catalog a device with `firmware` uses (the newest when firmware is unknown)."""
        if firmware:
            try:
                for cat in reversed(self.catalogs):
                    if cat.covers(firmware):
                        return cat
            except ValueError:
                pass
        if self.catalogs:
            return self.catalogs[-1]
        return Catalog(self.catalog_version, "0", "", self.codes)


def firmware_key(version: str) -> tuple[int, ...]:
    """`"2.10.1"` -> (2, 10, 1) for ordering; ValueError when not dotted numbers."""
    parts = version.strip().split(".")
    if not version.strip() or not all(p.isdigit() for p in parts):
        raise ValueError(f"firmware version {version!r} is not dotted numbers like 2.1.0")
    return tuple(int(p) for p in parts)
