"""Reading an id-ordered log table (`ingest_feed`, `incident_changes`) in commit order.

Identity values are taken when a row is inserted, not when its transaction commits, so with
several writers id 101 can be visible while id 100 is still committing. A reader that simply
took "id > last" would skip 100 for ever. `GapGuard` stops at a gap until it is filled or is
older than `wait_s` (then its transaction rolled back, which also leaves a gap).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import psycopg


class GapGuard:
    """Decides how far a reader may advance past ids that are not (yet) visible."""

    def __init__(self, wait_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.wait_s = wait_s
        self.clock = clock
        self._gap_seen: dict[int, float] = {}

    def accept(self, last_id: int, ids: list[int]) -> int:
        """How many of `ids` (ascending, all > last_id) may be consumed now."""
        expected = last_id + 1
        for n, i in enumerate(ids):
            if i != expected:
                first = self._gap_seen.setdefault(expected, self.clock())
                if self.clock() - first < self.wait_s:
                    return n
                self._gap_seen.pop(expected, None)
            expected = i + 1
        return len(ids)


@dataclass(frozen=True)
class FeedBatch:
    """One committed ingest batch as columns."""

    id: int
    ts_ms: np.ndarray
    device: np.ndarray
    metric: np.ndarray
    value: np.ndarray
    events: list[tuple]


def read_feed(conn: psycopg.Connection, after_id: int, guard: GapGuard, limit: int = 50
              ) -> list[FeedBatch]:
    """The next committed batches after `after_id`, stopping at a fresh gap."""
    rows = conn.execute(
        """SELECT id, ts_ms, device, metric, value, events FROM ingest_feed
           WHERE id > %s ORDER BY id LIMIT %s""", (after_id, limit)).fetchall()
    take = guard.accept(after_id, [r[0] for r in rows])
    return [FeedBatch(r[0], np.frombuffer(r[1], "<i8"), np.frombuffer(r[2], "<i4"),
                      np.frombuffer(r[3], "<i2"), np.frombuffer(r[4], "<f8"),
                      [tuple(e) for e in r[5]]) for r in rows[:take]]


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
