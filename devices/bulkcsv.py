"""Parse and check a CSV of devices to register: every bad row is reported, none is dropped.

Columns (header required, order free): `device_id`, `model`, and optional `firmware`,
`household_id`. Pure: takes text and the known models, ids and households; returns rows or
a per-row error report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass

from devices.catalogmodel import firmware_key
from devices.topics import DEVICE_ID

REQUIRED = ("device_id", "model")
OPTIONAL = ("firmware", "household_id")


@dataclass(frozen=True)
class DeviceRow:
    """One device to register."""

    line: int
    device_id: str
    model_id: str
    firmware: str = ""
    household_id: str | None = None


@dataclass(frozen=True)
class RowError:
    """What is wrong with one line of the file."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def parse_devices_csv(
    text: str, *, models: Collection[str], existing: Collection[str] = (),
    households: Collection[str] | None = None,
) -> tuple[list[DeviceRow], list[RowError]]:
    """Rows to register and the errors found; callers import only when errors is empty.

    `existing` are device ids already registered; `households` the known household ids
    (None: do not check).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        return _parse(reader, models=models, existing=existing, households=households)
    except csv.Error as exc:  # a stray quote or line break inside a field
        return [], [RowError(reader.line_num or 1, "file", f"not valid CSV: {exc}")]


def _parse(reader: csv.DictReader[str], *, models: Collection[str], existing: Collection[str],
           households: Collection[str] | None) -> tuple[list[DeviceRow], list[RowError]]:
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or unknown:
        what = (f"missing column(s) {', '.join(missing)}" if missing
                else f"unknown column(s) {', '.join(unknown)}")
        return [], [RowError(1, "header", f"{what}; expected {', '.join(REQUIRED + OPTIONAL)}")]
    reader.fieldnames = header
    rows: list[DeviceRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(reader, start=2):
        if None in raw:
            errors.append(RowError(n, "row", "more values than columns"))
            continue
        values = {k: (v or "").strip() for k, v in raw.items()}
        before = len(errors)
        device_id, model = values["device_id"], values["model"]
        if not DEVICE_ID.match(device_id):
            errors.append(RowError(n, "device_id",
                                   f"{device_id!r} must be 1-64 of A-Z a-z 0-9 _ -"))
        elif device_id in seen:
            errors.append(RowError(n, "device_id", f"{device_id!r} repeats line {seen[device_id]}"))
        elif device_id in existing:
            errors.append(RowError(n, "device_id", f"{device_id!r} is registered already"))
        if model not in models:
            errors.append(RowError(n, "model", f"{model!r} is not in the catalog"))
        firmware = values.get("firmware", "")
        if firmware:
            try:
                firmware_key(firmware)
            except ValueError as exc:
                errors.append(RowError(n, "firmware", str(exc)))
        household = values.get("household_id") or None
        if household and households is not None and household not in households:
            errors.append(RowError(n, "household_id", f"{household!r} does not exist"))
        seen.setdefault(device_id, n)
        if len(errors) == before:
            rows.append(DeviceRow(n, device_id, model, firmware, household))
    if not rows and not errors:
        errors.append(RowError(1, "file", "no devices in the file"))
    return rows, errors
