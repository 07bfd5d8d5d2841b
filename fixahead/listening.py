"""The platform's own health as listening intervals: judged, recorded, and read back.

The composition root decides whether the platform is listening (`healthy`), extends the
current interval in `platform_listening` while it is (`ListeningRecorder.beat`), and hands
the rules engine what was recorded (`load_listening`) with the trusted clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from rules.listening import Listening


@dataclass(frozen=True)
class Health:
    """What the listening judgement looks at, at one moment."""

    connected: bool  # ingest's MQTT session is up
    committing: bool  # its last write succeeded (or there was nothing to write)
    backlog_s: float  # how long the oldest message not yet stored has waited
    data_lag_s: float | None  # trusted now minus the fleet's newest stored event time
    rules_current: bool  # the rule engine keeps up (its queue is below the bound)


@dataclass(frozen=True)
class Bounds:
    """How far behind the platform may be and still count as listening."""

    max_backlog_s: float = 30.0
    max_data_lag_s: float | None = 300.0  # None: not judged (a scenario's own clock)


def healthy(h: Health, bounds: Bounds = Bounds()) -> bool:
    """Whether the platform was listening: connected, committing, caught up, rules current."""
    caught_up = h.backlog_s <= bounds.max_backlog_s and (
        bounds.max_data_lag_s is None or h.data_lag_s is None
        or h.data_lag_s <= bounds.max_data_lag_s)
    return h.connected and h.committing and caught_up and h.rules_current


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class ListeningRecorder:
    """Extends `source`'s current listening interval on each healthy beat; an unhealthy beat,
    or a beat more than `max_gap_ms` after the last (a stalled process), ends it."""

    def __init__(self, source: str, *, max_gap_ms: int | None = 10_000) -> None:
        self.source = source
        self.max_gap_ms = max_gap_ms
        self._current: int | None = None
        self._last_ms: int | None = None
        self.intervals: list[tuple[int, int]] = []  # what this recorder wrote (in memory)

    def beat(self, conn: psycopg.Connection | None, now_ms: int, listening: bool) -> None:
        """Record one judgement at trusted time `now_ms` (conn None: in memory only)."""
        stale = (self._last_ms is None or (self.max_gap_ms is not None
                                           and now_ms - self._last_ms > self.max_gap_ms))
        if not listening:
            self._current = None
            self._last_ms = now_ms
            return
        if self._last_ms is not None and now_ms < self._last_ms:
            return  # the trusted clock never goes back; ignore a late beat
        if self._current is None or stale:
            self.intervals.append((now_ms, now_ms))
            self._current = -1  # not stored yet
        else:
            self.intervals[-1] = (self.intervals[-1][0], now_ms)
        if conn is not None and self._current == -1:  # (a beat without conn stores later)
            row = conn.execute(
                "INSERT INTO platform_listening (source, started_at, until_at) "
                "VALUES (%s, %s, %s) RETURNING id",
                (self.source, _dt(self.intervals[-1][0]), _dt(now_ms))).fetchone()
            self._current = int(row[0]) if row else -1
        elif conn is not None:
            conn.execute("UPDATE platform_listening SET until_at = %s WHERE id = %s",
                         (_dt(now_ms), self._current))
        self._last_ms = now_ms

    def listening(self) -> Listening:
        """What this recorder has recorded, for an engine in the same process."""
        return Listening(tuple(self.intervals))


def load_listening(conn: psycopg.Connection, since_ms: int) -> Listening:
    """Every source's intervals that end after `since_ms` (their union)."""
    rows = conn.execute(
        "SELECT started_at, until_at FROM platform_listening WHERE until_at >= %s",
        (_dt(since_ms),)).fetchall()
    return Listening(tuple((round(a.timestamp() * 1000), round(b.timestamp() * 1000))
                           for a, b in rows))


def record_while(database_url: str, stop: threading.Event, source: str,
                 judge: Callable[[], bool], *, every_s: float = 1.0,
                 clock: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
    """Beat `judge()` every `every_s` at the wall clock until `stop` (an ingest role's
    thread); a database outage is recorded as not listening once it is back."""
    recorder = ListeningRecorder(source, max_gap_ms=int(every_s * 1000 * 5))
    while not stop.wait(every_s):
        try:
            with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
                while not stop.wait(every_s):
                    recorder.beat(conn, clock(), judge())
        except psycopg.OperationalError:
            recorder.beat(None, clock(), False)


def ingest_judge(worker: object, bounds: Bounds = Bounds()) -> Callable[[], bool]:
    """Health of an ingest worker (its own process): connected, committing, caught up."""
    seen = [0.0]

    def judge() -> bool:
        sample = worker.metrics.registry.get_sample_value  # type: ignore[attr-defined]
        errors, seen[0] = seen[0], sample("fixahead_ingest_db_errors_total") or 0.0
        return healthy(Health(connected=worker.connected,  # type: ignore[attr-defined]
                              committing=errors == seen[0],
                              backlog_s=float(sample("fixahead_ingest_lag_seconds") or 0.0),
                              data_lag_s=None, rules_current=True), bounds)
    return judge
