"""PostgreSQL binary COPY encoding of telemetry rows, vectorised with NumPy. No I/O.

Layout (PostgreSQL docs, "COPY ... BINARY"): an 11-byte signature, int32 flags, int32 header
extension length; then per row an int16 field count and, per field, an int32 byte length and the
big-endian value; then an int16 -1 trailer. timestamptz is int64 microseconds since 2000-01-01.
"""

from __future__ import annotations

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH_MS = 946_684_800_000  # 2000-01-01T00:00:00Z in Unix milliseconds

TELEMETRY_ROW = np.dtype(
    [
        ("nfields", ">i2"),
        ("len_time", ">i4"), ("time", ">i8"),
        ("len_device", ">i4"), ("device", ">i4"),
        ("len_metric", ">i4"), ("metric", ">i2"),
        ("len_value", ">i4"), ("value", ">f8"),
    ]
)


def telemetry_copy_bytes(
    ts_ms: np.ndarray, device: np.ndarray, metric: np.ndarray, value: np.ndarray
) -> bytes:
    """Encode rows (int64 ms, int32, int16, float64 arrays of equal length) as COPY BINARY."""
    n = len(ts_ms)
    rows = np.empty(n, dtype=TELEMETRY_ROW)
    rows["nfields"] = 4
    rows["len_time"] = 8
    rows["time"] = (ts_ms.astype(np.int64) - PG_EPOCH_MS) * 1000
    rows["len_device"] = 4
    rows["device"] = device
    rows["len_metric"] = 2
    rows["metric"] = metric
    rows["len_value"] = 8
    rows["value"] = value
    return SIGNATURE + rows.tobytes() + TRAILER
