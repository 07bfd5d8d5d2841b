"""Write one batch in one transaction: dedupe ledger, telemetry COPY, events, dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from devices.contracts import FEED_DEVICE, FEED_METRIC, FEED_TS_MS, FEED_VALUE, EventRow
from devices.store import record_statuses
from ingest.batch import Batch
from ingest.copyformat import telemetry_copy_bytes


@dataclass(frozen=True)
class Committed:
    """What a committed batch stored: the new telemetry rows in columns, ordered by device,
    metric and time, and the new events in arrival order."""

    ts_ms: np.ndarray  # int64, Unix milliseconds
    device: np.ndarray  # int32, device key
    metric: np.ndarray  # int16, metric id
    value: np.ndarray  # float64
    events: list[EventRow]
    messages: int
    duplicates: int
    dead_letters: int

    @property
    def rows(self) -> int:
        """Telemetry rows stored."""
        return len(self.ts_ms)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def write_batch(conn: psycopg.Connection, batch: Batch, *, feed: bool = False) -> Committed:
    """Store `batch` in one transaction and return what was new; raises on database errors.

    With `feed`, what was new also goes to `ingest_feed` in the same transaction, for rule
    workers in other processes (`NOTIFY ingest_feed` wakes them).
    """
    ts = np.asarray(batch.ts_ms, dtype=np.int64)
    dev = np.asarray(batch.device, dtype=np.int32)
    met = np.asarray(batch.metric, dtype=np.int16)
    val = np.asarray(batch.value, dtype=np.float64)
    events = batch.events
    duplicates = batch.duplicates_in_batch
    with conn.transaction(), conn.cursor() as cur:
        if batch.key_device:
            # the keys go as binary arrays: dumping them as text took twice as long measured
            cur.execute(
                """INSERT INTO ingest_messages (device, seq)
                   SELECT * FROM unnest(%b::integer[], %b::bigint[]) ORDER BY 1, 2
                   ON CONFLICT DO NOTHING RETURNING device, seq""",
                (batch.key_device, batch.key_seq),
            )
            fresh = set(cur.fetchall())
            if len(fresh) < len(batch.key_device):
                # some messages were stored before (redelivery): keep only the rows of new ones
                keep = np.zeros(len(ts), dtype=bool)
                kept_events = []
                for d, s, (r0, r1), (e0, e1) in zip(
                    batch.key_device, batch.key_seq, batch.key_rows, batch.key_events, strict=True
                ):
                    if (d, s) in fresh:
                        keep[r0:r1] = True
                        kept_events.extend(events[e0:e1])
                    else:
                        duplicates += 1
                ts, dev, met, val = ts[keep], dev[keep], met[keep], val[keep]
                events = kept_events
        if len(ts):
            # Sorted rows touch each leaf of the (device, metric, time) index once per batch
            # instead of at random: COPY ran about twice as fast when measured.
            order = np.lexsort((ts, met, dev))
            ts, dev, met, val = ts[order], dev[order], met[order], val[order]
            with cur.copy(
                "COPY telemetry (time, device, metric, value) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.write(telemetry_copy_bytes(ts, dev, met, val))
        if events:
            with cur.copy(
                "COPY events (time, device, seq, kind, code, state, title, severity, known) "
                "FROM STDIN"
            ) as copy:
                for e in events:
                    copy.write_row((_dt(e[0]), *e[1:]))
        if batch.dead:
            with cur.copy(
                "COPY dead_letters (topic, device_id, reason, detail, payload) FROM STDIN"
            ) as copy:
                for d in batch.dead:
                    copy.write_row((d.topic, d.device_id, d.reason, d.detail, d.payload))
        if feed and (len(ts) or events):
            cur.execute(
                """INSERT INTO ingest_feed (n_rows, ts_ms, device, metric, value, events)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                (len(ts), ts.astype(FEED_TS_MS).tobytes(), dev.astype(FEED_DEVICE).tobytes(),
                 met.astype(FEED_METRIC).tobytes(), val.astype(FEED_VALUE).tobytes(),
                 Jsonb([list(e) for e in events])),
            )
            cur.execute("NOTIFY ingest_feed")
        record_statuses(cur, batch.statuses, batch.last_seen)
    return Committed(ts, dev, met, val, events, batch.messages, duplicates, len(batch.dead))
