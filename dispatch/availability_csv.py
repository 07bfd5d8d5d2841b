"""The events CSV of `fixahead availability predict`: parse it, write the 168-row answer."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import numpy as np


def parse_instant(text: str, what: str) -> datetime:
    """An aware instant from epoch seconds or ISO 8601 with a zone; ValueError naming `what`."""
    value = text.strip()
    if not value:
        raise ValueError(f"{what}: empty timestamp")
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not np.isfinite(seconds):
            raise ValueError(f"{what}: {value!r} is not a finite number of seconds")
        return datetime.fromtimestamp(seconds).astimezone()
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what}: {value!r} is neither epoch seconds nor ISO 8601") from None
    if when.tzinfo is None:
        raise ValueError(f"{what}: {value!r} has no time zone (add Z or +01:00)")
    return when


def parse_events(text: str) -> list[int]:
    """Epoch seconds of the events in a CSV whose header has a `timestamp` column."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        raise ValueError("line 1: empty input; expected a header with a 'timestamp' column")
    names = [h.strip().lower() for h in header]
    if "timestamp" not in names:
        raise ValueError(f"line 1: no 'timestamp' column in the header {header!r}")
    col = names.index("timestamp")
    out = []
    for row in rows:
        line = rows.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if col >= len(row):
            raise ValueError(f"line {line}: no timestamp (only {len(row)} columns)")
        out.append(int(parse_instant(row[col], f"line {line}").timestamp()))
    return out


def format_p_home(p_home: np.ndarray) -> str:
    """CSV `hour_of_week,p_home`, 168 rows, 0 = Monday 00:00 local."""
    lines = ["hour_of_week,p_home"] + [f"{h},{p:.4f}" for h, p in enumerate(p_home)]
    return "\n".join(lines) + "\n"
