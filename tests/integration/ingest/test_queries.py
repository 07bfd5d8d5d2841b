"""Ingest's reads for other areas, against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from devices.store import register_device
from ingest.queries import state_times

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def test_state_times_are_the_asked_devices_states_in_the_half_open_window(
        database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        washer = register_device(conn, "st-washer", "WM-800")
        other = register_device(conn, "st-other", "WM-800")
        rows = [(T0, washer, 1, "state", "cycle_started"),
                (T0 + timedelta(hours=1), washer, 2, "state", "door_opened"),
                (T0 + timedelta(hours=2), washer, 3, "state", "idle"),  # not asked for
                (T0 + timedelta(hours=3), other, 1, "state", "cycle_started"),  # not asked
                (T0 + timedelta(hours=4), washer, 4, "state", "cycle_started")]  # = until
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO events (time, device, seq, kind, state) "
                            "VALUES (%s, %s, %s, %s, %s)", rows)
        got = state_times(conn, [washer], ("cycle_started", "door_opened"), since=T0,
                          until=T0 + timedelta(hours=4))
        assert got.dtype.name == "int64"
        assert sorted(got.tolist()) == [int(T0.timestamp()), int(T0.timestamp()) + 3600]
        assert state_times(conn, [], ("cycle_started",), since=T0,
                           until=T0 + timedelta(days=1)).size == 0
