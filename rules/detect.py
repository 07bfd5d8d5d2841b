"""`timestamp,value` CSV in, `timestamp,anomaly_score` CSV out (pure: text in, text out)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable

import numpy as np

from rules import config
from rules.kernels.detect import detect_scores

MISSING = {"", "nan", "na", "n/a", "null", "none"}


class DetectInputError(ValueError):
    """Malformed input; the message names the line."""


def parse_series(lines: Iterable[str]) -> tuple[list[str], np.ndarray]:
    """Timestamps (as given) and values (NaN where missing) from `timestamp,value` CSV."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise DetectInputError("line 1: empty input, expected 'timestamp,value'") from None
    names = [h.strip().lstrip("\ufeff").strip().lower() for h in header]
    if "timestamp" not in names or "value" not in names:
        got = ",".join(header)
        raise DetectInputError(f"line 1: header must be 'timestamp,value', got {got!r}")
    ti, vi = names.index("timestamp"), names.index("value")
    width = len(names)
    stamps: list[str] = []
    values: list[float] = []
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            raise DetectInputError(f"line {line}: expected {width} fields, got {len(row)}")
        stamp = row[ti].strip()
        if not stamp:
            raise DetectInputError(f"line {line}: timestamp is empty")
        raw = row[vi].strip()
        if raw.lower() in MISSING:
            value = math.nan
        else:
            try:
                value = float(raw)
            except ValueError:
                raise DetectInputError(f"line {line}: value {raw!r} is not a number") from None
            if math.isinf(value):
                value = math.nan
        stamps.append(stamp)
        values.append(value)
    return stamps, np.asarray(values, dtype=np.float64)


def score_series(values: np.ndarray) -> np.ndarray:
    """Anomaly scores in [0, 1] for a series, each from its row and the rows before it."""
    return detect_scores(
        np.ascontiguousarray(values, dtype=np.float64),
        np.asarray(config.DETECT_WINDOWS, dtype=np.int64),
        config.DETECT_MIN_POINTS, config.DETECT_WARMUP, config.DETECT_CALIBRATION,
        config.DETECT_CUSUM_K, config.DETECT_CUSUM_RESET, config.DETECT_SCORE_SCALE,
        config.SCALE_FLOOR,
    )


def detect_csv(text: str) -> str:
    """The whole command as a function: input CSV text to output CSV text."""
    stamps, values = parse_series(io.StringIO(text, newline=""))
    scores = score_series(values)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("timestamp", "anomaly_score"))
    writer.writerows(zip(stamps, (f"{s:.6f}" for s in scores), strict=True))
    return out.getvalue()
