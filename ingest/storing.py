"""The worker's database side: registry snapshot, build a batch, write it, isolate refusals.

A write that fails because the database is away (or refuses every write) is retried with
backoff, nothing acked meanwhile. A write refused for its data (a value PostgreSQL cannot
hold: `DataError`, `IntegrityError`, or rows we could not encode) is bisected: the messages
to blame are dead-lettered with reason `write_error`, the others are committed, and the
whole batch is acked. So one message can never stop ingest for every device.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import psycopg

from devices import store
from devices.protocol import Reason
from devices.registry import DeviceInfo, RegistrySnapshot
from devices.topics import DeviceTopic
from ingest.batch import Batch, BatchBuilder
from ingest.config import IngestConfig
from ingest.deadletters import DeadLetterReporter, dead_letter
from ingest.deadletterstore import prune_dead_letters
from ingest.isolate import DataFault, isolate
from ingest.metrics import IngestMetrics
from ingest.writer import Committed, merge_committed, write_batch

log = logging.getLogger("ingest.worker")

T = TypeVar("T")


class Message(Protocol):
    """A received message as the store needs it."""

    topic: str
    payload: bytes


M = TypeVar("M", bound=Message)


class Abandoned(Exception):
    """Stop was requested while the database was unreachable."""


class BatchStore:
    """Writes received messages for one worker (its writer thread only)."""

    def __init__(self, config: IngestConfig, metrics: IngestMetrics,
                 clock_ms: Callable[[], int]) -> None:
        self.config = config
        self.metrics = metrics
        self.clock_ms = clock_ms
        self._conn: psycopg.Connection | None = None
        self._registry = RegistrySnapshot()
        self._registry_at = 0.0
        self._missing: dict[str, float] = {}
        self._topics: dict[str, DeviceTopic] = {}  # parsed topics, kept across batches
        self._pruned_at = time.monotonic()
        self._changed: set[str] = set()  # devices announced by NOTIFY devices_changed
        self.dead_letters = DeadLetterReporter(
            lambda reason: metrics.dead_letters.labels(reason).inc(),
            config.dead_letter_log_every_s)

    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            conn = psycopg.connect(self.config.database_url, autocommit=True, connect_timeout=5)
            conn.add_notify_handler(lambda n: self._changed.add(n.payload))
            conn.execute("LISTEN devices_changed")
            self._conn = conn
            self._registry_at = 0.0  # changes while disconnected were not heard: reload
        return self._conn

    def close(self) -> None:
        """Close the database connection (a new one opens on the next use)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def refresh_registry(self, force: bool = False) -> None:
        """Reload the registry snapshot when it is older than the refresh period, and forget
        the devices announced as changed (revoked, rotated) so they are looked up again."""
        conn = self._db()
        conn.execute("SELECT 1")  # one round trip hands over what NOTIFY sent since the last
        now = time.monotonic()
        if force or now - self._registry_at > self.config.registry_refresh_s:
            self._registry = store.load_registry(conn)
            self._registry_at = now
            self._missing.clear()
            self._changed.clear()
        while self._changed:  # revoked or re-registered: looked up again on its next message
            device_id = self._changed.pop()
            self._registry.devices.pop(device_id, None)
            self._missing.pop(device_id, None)

    def _lookup_device(self, device_id: str) -> DeviceInfo | None:
        """A device registered since the last snapshot: one query, then a 5 s negative cache."""
        until = self._missing.get(device_id)
        if until is not None and until > time.monotonic():
            return None
        row = self._db().execute(
            "SELECT id, model_id, state FROM devices WHERE device_id = %s", (device_id,)
        ).fetchone()
        if row is None:
            self._missing[device_id] = time.monotonic() + 5.0
            return None
        if row[1] not in self._registry.models:
            self.refresh_registry(force=True)
        info = DeviceInfo(row[0], device_id, row[1], row[2] == "revoked")
        self._registry.devices[device_id] = info
        return info

    def _build(self, received: Sequence[Message]) -> Batch:
        builder = BatchBuilder(self._registry, self.config.limits, self.config.topic_prefix,
                               self._lookup_device, self._topics,
                               self.config.dead_letter_max_bytes)
        now = self.clock_ms()
        for r in received:
            builder.add(r.topic, r.payload, r, now)
        return builder.take()

    def write(self, received: Sequence[M], stop: threading.Event) -> Committed:
        """Store `received`; messages the database refuses are bisected out and dead-lettered."""
        self._retrying(stop, len(received), self.refresh_registry)
        found = isolate(received, lambda part: self._retrying(
            stop, len(part), lambda: self._write_part(part)))
        parts = found.results
        if found.refused:
            dead = self._refused_batch(found.refused)
            parts.append(self._retrying(stop, len(dead.tokens), lambda: self._write(dead)))
            log.warning("%d message(s) refused by the database were dead-lettered (%d writes)",
                        len(found.refused), found.writes)
        return merge_committed(parts)

    def _retrying(self, stop: threading.Event, n: int, step: Callable[[], T]) -> T:
        """Run `step` until the database answers; `Abandoned` when stopped meanwhile."""
        delay = 0.1
        while True:
            try:
                return step()
            except psycopg.Error as exc:  # away, or refusing every write: wait and retry
                self.metrics.db_errors.inc()
                log.warning("batch of %d not stored (%s); retrying in %.1fs",
                            n, exc.__class__.__name__, delay)
                self.close()
                if stop.wait(delay):
                    raise Abandoned from exc
                delay = min(delay * 2, self.config.retry_max_s)

    def _write_part(self, part: Sequence[Message]) -> Committed:
        """Build and write one part; a refusal for its data becomes a `DataFault`."""
        try:
            return self._write(self._build(part))
        except (psycopg.DataError, psycopg.IntegrityError) as exc:  # what the rows caused
            raise DataFault(f"{exc.__class__.__name__}: {exc}".splitlines()[0][:500]) from exc
        except (ValueError, TypeError, OverflowError) as exc:  # rows we could not encode
            raise DataFault(f"{exc.__class__.__name__}: {exc}"[:500]) from exc

    def _write(self, batch: Batch) -> Committed:
        started = time.perf_counter()
        committed = write_batch(self._db(), batch, feed=self.config.feed)
        self.metrics.commit_seconds.observe(time.perf_counter() - started)
        for d in batch.dead:
            self.dead_letters.record(d)
        for refusal in batch.refusals:
            self.metrics.acl_denials.labels(refusal.access).inc(refusal.count)
        return committed

    def _refused_batch(self, refused: list[tuple[Message, str]]) -> Batch:
        batch = Batch()
        for r, detail in refused:
            batch.tokens.append(r)
            batch.dead.append(dead_letter(r.topic, self.config.topic_prefix, Reason.WRITE_ERROR,
                                          detail, r.payload, self.config.dead_letter_max_bytes))
        return batch

    def prune(self) -> None:
        """Every so often: forget dedupe keys older than any message still accepted (plus a
        day), and dead letters past their retention."""
        if time.monotonic() - self._pruned_at < self.config.ledger_prune_every_s:
            return
        self._pruned_at = time.monotonic()
        keep_s = self.config.limits.max_past_age_ms / 1000 + 86_400
        try:
            self._db().execute(
                "DELETE FROM ingest_messages WHERE received_at < now() - make_interval(secs => %s)",
                (keep_s,),
            )
            prune_dead_letters(self._db(), older_than_s=self.config.dead_letter_retention_s)
        except psycopg.Error:
            log.warning("pruning the dedupe ledger or dead letters failed; will try again later")
            self.close()
