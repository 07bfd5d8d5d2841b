"""What ingest stored, as others read it: telemetry pages and series, error and state events
(adapter).

Ingest owns `telemetry`, `telemetry_hourly`, `events`, `ingest_messages`, `dead_letters`,
`ingest_feed` and `feed_positions`; other packages read them only through functions like these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.rows import dict_row


def readings(conn: psycopg.Connection, device: int, *, metric: int | None = None,
             since: datetime | None = None, until: datetime | None = None,
             after: datetime | None = None, limit: int = 1000
             ) -> list[tuple[datetime, int, float]]:
    """(time, metric, value) of one device in time order: `since` <= time < `until`, and
    strictly after the cursor `after`."""
    return conn.execute(
        """SELECT time, metric, value FROM telemetry
           WHERE device = %(d)s AND (%(m)s::smallint IS NULL OR metric = %(m)s)
             AND (%(since)s::timestamptz IS NULL OR time >= %(since)s)
             AND (%(until)s::timestamptz IS NULL OR time < %(until)s)
             AND (%(after)s::timestamptz IS NULL OR time > %(after)s)
           ORDER BY time, metric LIMIT %(limit)s""",
        {"d": device, "m": metric, "since": since, "until": until, "after": after,
         "limit": limit}).fetchall()


def series(conn: psycopg.Connection, device: int, metric: int, start: datetime,
           end: datetime, *, limit: int = 20000) -> list[tuple[float, float]]:
    """(epoch seconds, value) of one metric of one device between start and end."""
    return conn.execute(
        """SELECT extract(epoch FROM time)::float8, value FROM telemetry
           WHERE device = %s AND metric = %s AND time BETWEEN %s AND %s
           ORDER BY time LIMIT %s""", (device, metric, start, end, limit)).fetchall()


def last_reading_at(conn: psycopg.Connection, device: int) -> datetime | None:
    """When the device's newest stored reading was taken (None without any)."""
    row = conn.execute("SELECT max(time) FROM telemetry WHERE device = %s",
                       (device,)).fetchone()
    return None if row is None else row[0]


def error_events(conn: psycopg.Connection, device: int, *, limit: int = 50
                 ) -> list[dict[str, Any]]:
    """The device's newest error and cleared events (time, kind, code, title, severity)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT e.time, e.kind, e.code, e.title, e.severity FROM events e
               WHERE e.device = %s AND e.kind IN ('error', 'cleared')
               ORDER BY e.time DESC LIMIT %s""", (device, limit)).fetchall()


def state_times(conn: psycopg.Connection, devices: Sequence[int], states: Sequence[str], *,
                since: datetime, until: datetime) -> npt.NDArray[np.int64]:
    """Epoch seconds (int64, in no particular order) of the state events among `states` that
    these devices (registry keys, `devices.id`) reported in [since, until)."""
    if not devices:
        return np.zeros(0, dtype=np.int64)
    rows = conn.execute(
        """SELECT extract(epoch FROM time)::bigint FROM events
           WHERE device = ANY (%s) AND kind = 'state' AND state = ANY (%s)
             AND time >= %s AND time < %s""",
        (list(devices), list(states), since, until)).fetchall()
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
