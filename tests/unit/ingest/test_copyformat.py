"""The NumPy COPY BINARY encoder writes exactly PostgreSQL's documented layout."""

from __future__ import annotations

import struct

import numpy as np

from ingest.copyformat import PG_EPOCH_MS, SIGNATURE, telemetry_copy_bytes


def test_rows_follow_the_documented_binary_layout():
    data = telemetry_copy_bytes(np.array([PG_EPOCH_MS + 1500]), np.array([7]),
                                np.array([3]), np.array([2.5]))
    assert data.startswith(SIGNATURE) and data.endswith(b"\xff\xff")
    body = data[len(SIGNATURE):-2]
    assert body == struct.pack(">hiqiiihid", 4, 8, 1_500_000, 4, 7, 2, 3, 8, 2.5)


def test_empty_input_is_a_valid_empty_copy():
    empty = np.array([], dtype=np.int64)
    assert telemetry_copy_bytes(empty, empty, empty, empty.astype(float)) == SIGNATURE + b"\xff\xff"
