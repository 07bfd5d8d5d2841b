"""`timestamp,value...` CSV in, `timestamp,anomaly_score` CSV out (pure: text in, text out).

Input policy: a header whose first column is `timestamp`, then one or more numeric columns
(`value` for one series; any names for several: one score per row from all of them). Fields
are separated by `,` (or `;` when the header has no comma). Timestamps are ISO 8601 or
seconds since the epoch; they must not go back in time (unsorted input is rejected, naming
the line); equal timestamps are kept and scored in file order. Empty or `nan`/`null` values
are missing (a row with none scores 0 and changes nothing). At most MAX_ROWS rows.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np

from rules.kernels.detect import NCOL, NG, NK, detect_rows

MISSING = {"", "nan", "na", "n/a", "null", "none"}
MAX_ROWS = 5_000_000


class DetectInputError(ValueError):
    """Malformed input; the message names the line."""


DetectorState = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def new_state(d: int) -> DetectorState:
    """A fresh detector state for rows of d columns."""
    from rules.config import DETECT_SMOOTH

    lam = DETECT_SMOOTH
    return (np.zeros((d, NCOL)), np.zeros(d), np.eye(d), np.eye(d) * lam / (2.0 - lam),
            _tails(), np.zeros(NG))


def _tails() -> np.ndarray:
    from rules.config import DETECT_TAIL_S

    q = np.zeros((NK, 3))
    q[:, 0] = 10.0 ** -DETECT_TAIL_S
    q[:, 1] = 1.0 / math.log(10.0)  # a true p-value's mean excess, as 5 pseudo-excesses
    q[:, 2] = 5.0
    return q


def score_rows(x: np.ndarray, state: DetectorState | None = None) -> np.ndarray:
    """Scores in [0, 1] of the rows of x (n, d) or of a series (n,); updates `state` in place."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"expected an (n, d) array with d >= 1, got shape {arr.shape}")
    arr = np.ascontiguousarray(arr)
    st = new_state(arr.shape[1]) if state is None else state
    if st[0].shape != (arr.shape[1], NCOL):
        raise ValueError(f"state is for {st[0].shape[0]} columns, rows have {arr.shape[1]}")
    out = np.zeros(arr.shape[0])
    detect_rows(arr, *st, out)
    return out


def score_series(values: np.ndarray) -> np.ndarray:
    """Anomaly scores in [0, 1] for one series, each from its row and the rows before it."""
    return score_rows(np.asarray(values, dtype=np.float64)[:, None])


def _epoch(stamp: str) -> float:
    try:
        return float(stamp)
    except ValueError:
        pass
    t = datetime.fromisoformat(stamp)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def parse_table(lines: Iterable[str]) -> tuple[list[str], list[str], np.ndarray]:
    """(column names, timestamps as given, values (n, d) with NaN where missing) from CSV."""
    it = iter(lines)
    first = next(it, None)
    if first is None or not first.strip():
        raise DetectInputError("line 1: empty input, expected a header 'timestamp,value'")
    delim = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(_chain(first, it), delimiter=delim)
    header = [h.strip().lstrip("\ufeff").strip() for h in next(reader)]
    if len(header) < 2 or header[0].lower() != "timestamp" or not all(header[1:]):
        got = delim.join(header)
        raise DetectInputError(
            f"line 1: header must be 'timestamp' then one or more named value columns "
            f"(e.g. 'timestamp,value'), got {got!r}")
    width = len(header)
    stamps: list[str] = []
    rows: list[list[float]] = []
    last = -math.inf
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(rows) >= MAX_ROWS:
            raise DetectInputError(f"line {line}: more than {MAX_ROWS:,} rows; split the input")
        if len(row) != width:
            raise DetectInputError(f"line {line}: expected {width} fields, got {len(row)}")
        stamp = row[0].strip()
        if not stamp:
            raise DetectInputError(f"line {line}: timestamp is empty")
        try:
            when = _epoch(stamp)
        except ValueError:
            raise DetectInputError(
                f"line {line}: timestamp {stamp!r} is neither ISO 8601 nor epoch seconds"
            ) from None
        if when < last:
            raise DetectInputError(
                f"line {line}: timestamp {stamp!r} is before the previous row's; sort the input")
        last = when
        values = []
        for name, raw in zip(header[1:], row[1:], strict=True):
            raw = raw.strip()
            if raw.lower() in MISSING:
                values.append(math.nan)
                continue
            try:
                value = float(raw)
            except ValueError:
                raise DetectInputError(
                    f"line {line}: {name} {raw!r} is not a number") from None
            values.append(value if math.isfinite(value) else math.nan)
        stamps.append(stamp)
        rows.append(values)
    x = np.asarray(rows, dtype=np.float64).reshape(len(rows), width - 1)
    return header[1:], stamps, x


def _chain(first: str, rest: Iterable[str]) -> Iterable[str]:
    yield first
    yield from rest


def parse_series(lines: Iterable[str]) -> tuple[list[str], np.ndarray]:
    """Timestamps (as given) and values (NaN where missing) from `timestamp,value` CSV."""
    _, stamps, x = parse_table(lines)
    if x.shape[1] != 1:
        raise DetectInputError(f"line 1: expected one value column, got {x.shape[1]}")
    return stamps, x[:, 0]


def detect_csv(text: str) -> str:
    """The whole command as a function: input CSV text to output CSV text."""
    _, stamps, x = parse_table(io.StringIO(text, newline=""))
    scores = score_rows(x)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("timestamp", "anomaly_score"))
    writer.writerows(zip(stamps, (f"{s:.6f}" for s in scores), strict=True))
    return out.getvalue()
