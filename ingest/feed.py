"""The reader of `ingest_feed`, beside its writer (`ingest.writer.write_batch`): committed
batches in commit order (through `devices.gapguard.GapGuard`), consumers' positions, pruning.
The record layout is `devices.contracts` (FEED_* dtypes, EventRow)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg

from devices.contracts import FEED_DEVICE, FEED_METRIC, FEED_TS_MS, FEED_VALUE, EventRow
from devices.gapguard import GapGuard

__all__ = ["FeedBatch", "GapGuard", "load_positions", "prune_feed", "read_feed",
           "save_positions"]


@dataclass(frozen=True)
class FeedBatch:
    """One committed ingest batch as columns."""

    id: int
    ts_ms: np.ndarray
    device: np.ndarray
    metric: np.ndarray
    value: np.ndarray
    events: list[EventRow]


def read_feed(conn: psycopg.Connection, after_id: int, guard: GapGuard, limit: int = 50
              ) -> list[FeedBatch]:
    """The next committed batches after `after_id`, stopping at a fresh gap."""
    rows = conn.execute(
        """SELECT id, ts_ms, device, metric, value, events FROM ingest_feed
           WHERE id > %s ORDER BY id LIMIT %s""", (after_id, limit)).fetchall()
    take = guard.accept(after_id, [r[0] for r in rows])
    return [FeedBatch(r[0], np.frombuffer(r[1], FEED_TS_MS), np.frombuffer(r[2], FEED_DEVICE),
                      np.frombuffer(r[3], FEED_METRIC), np.frombuffer(r[4], FEED_VALUE),
                      [EventRow(*e) for e in r[5]]) for r in rows[:take]]


def load_positions(conn: psycopg.Connection, consumer: str) -> dict[int, int]:
    """Last consumed id per partition of `consumer`."""
    return dict(conn.execute("SELECT part, last_id FROM feed_positions WHERE consumer = %s",
                             (consumer,)).fetchall())


def save_positions(conn: psycopg.Connection, consumer: str,
                   positions: dict[int, tuple[int, int]]) -> None:
    """Store (last_id, epoch) per partition; a position held under an older epoch never wins."""
    with conn.transaction():
        for part, (last_id, epoch) in positions.items():
            conn.execute(
                """INSERT INTO feed_positions (consumer, part, last_id, epoch)
                   VALUES (%s, %s, %s, %s)
                   ON CONFLICT (consumer, part) DO UPDATE
                   SET last_id = EXCLUDED.last_id, epoch = EXCLUDED.epoch, updated_at = now()
                   WHERE feed_positions.epoch <= EXCLUDED.epoch""",
                (consumer, part, last_id, epoch))


def prune_feed(conn: psycopg.Connection, keep_s: float = 86_400) -> None:
    """Delete feed rows every consumer has passed and that are older than `keep_s`."""
    conn.execute(
        """DELETE FROM ingest_feed WHERE committed_at < now() - make_interval(secs => %s)
           AND id <= coalesce((SELECT min(last_id) FROM feed_positions
                               WHERE consumer = 'rules'), 0)""", (keep_s,))
