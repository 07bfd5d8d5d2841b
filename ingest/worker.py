"""The ingest worker: receive over MQTT, batch, write in one transaction, then acknowledge.

Two threads: paho's network thread appends each message to an inbox; the writer thread (the
caller of `run`) drains the inbox into batches by count, rows and time, writes a batch, and
only after its commit sends the PUBACKs. Messages of a connection that has since dropped are
not acked (their packet ids may be reused): the broker redelivers them and the dedupe ledger
skips their rows. A failed write is retried with backoff, rebuilding the batch from the raw
messages, until the database is back; nothing is acked meanwhile, so nothing is lost.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import psycopg

from devices import store
from devices.protocol import Limits
from devices.registry import DeviceInfo, RegistrySnapshot
from devices.topics import DeviceTopic, subscription
from ingest.batch import Batch, BatchBuilder
from ingest.metrics import IngestMetrics
from ingest.mqttclient import (
    MQTT5,
    IngestClient,
    connect_properties,
    detect_protocol,
    make_client,
)
from ingest.mqtturl import BrokerAddress
from ingest.writer import Committed, write_batch

log = logging.getLogger(__name__)

CHANNELS = ("telemetry", "events", "status")


@dataclass(frozen=True)
class IngestConfig:
    """What a worker needs to know; built from Settings by the composition root."""

    database_url: str
    broker: BrokerAddress
    client_id: str
    topic_prefix: str = "fixahead/v1"
    share_group: str | None = "ingest"
    session_expiry_s: int = 3600
    receive_maximum: int = 20000
    batch_max_messages: int = 2000
    batch_max_rows: int = 50000
    batch_max_wait_s: float = 0.05
    retry_max_s: float = 10.0
    registry_refresh_s: float = 30.0
    ledger_prune_every_s: float = 600.0
    limits: Limits = field(default_factory=Limits)
    protocol: int | None = None  # MQTT5 or MQTT311; None: ask the broker
    feed: bool = False  # also write committed batches to ingest_feed (rules in other processes)


class _Abandoned(Exception):
    """Stop was requested while the database was unreachable."""


@dataclass(frozen=True, slots=True)
class _Received:
    topic: str
    payload: bytes
    generation: int
    mid: int
    qos: int
    at: float


class IngestWorker:
    """One ingest worker; `run(stop)` blocks until `stop` is set, then drains and returns."""

    def __init__(
        self,
        config: IngestConfig,
        *,
        metrics: IngestMetrics | None = None,
        on_commit: Callable[[Committed], None] | None = None,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.config = config
        self.metrics = metrics or IngestMetrics()
        self.on_commit = on_commit
        self.clock_ms = clock_ms
        self._inbox: deque[_Received] = deque()
        self._wake = threading.Event()
        self._generation = 0
        self._connected = threading.Event()
        self.ready = threading.Event()  # set once subscribed (SUBACK received)
        self._writing = False
        self._conn: psycopg.Connection | None = None
        self._registry = RegistrySnapshot()
        self._registry_at = 0.0
        self._missing: dict[str, float] = {}
        self._topics: dict[str, DeviceTopic] = {}  # parsed topics (writer thread only)
        self._pruned_at = time.monotonic()
        self._client: mqtt.Client | None = None
        self.protocol: int | None = None
        self.shared = False

    @property
    def connected(self) -> bool:
        """Whether the MQTT connection is up."""
        return self._connected.is_set()

    @property
    def busy(self) -> bool:
        """Whether messages are waiting or a batch is being written."""
        return bool(self._inbox) or self._writing

    # --- MQTT side (paho's thread) -----------------------------------------------------

    def _on_connect(self, client: mqtt.Client, u: object, flags: object, rc: object,
                    props: object) -> None:
        if getattr(rc, "is_failure", False):
            log.error("MQTT connect refused: %s", rc)
            return
        self._generation += 1
        shared = self.protocol == MQTT5 and self.config.share_group is not None
        if shared and props is not None:
            available = getattr(props, "SharedSubscriptionAvailable", 1)
            shared = bool(available)
        self.shared = shared
        group = self.config.share_group if shared else None
        topics = [(subscription(self.config.topic_prefix, ch, group), 1) for ch in CHANNELS]
        client.subscribe(topics)
        self._connected.set()
        log.info("MQTT connected (generation %d, shared=%s)", self._generation, shared)

    def _on_subscribe(self, client: mqtt.Client, u: object, mid: int, rcs: object,
                      props: object) -> None:
        self.ready.set()

    def _on_disconnect(self, client: mqtt.Client, u: object, flags: object, rc: object,
                       props: object) -> None:
        self._connected.clear()
        log.warning("MQTT disconnected: %s", rc)

    def _on_message(self, client: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        self._inbox.append(
            _Received(msg.topic, msg.payload, self._generation, msg.mid, msg.qos, time.monotonic())
        )
        self._wake.set()

    def _start_mqtt(self) -> mqtt.Client:
        cfg = self.config
        self.protocol = cfg.protocol or detect_protocol(cfg.broker)
        client = make_client(cfg.broker, cfg.client_id, self.protocol, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        if self.protocol == MQTT5:
            client.connect_async(
                cfg.broker.host, cfg.broker.port, keepalive=30, clean_start=False,
                properties=connect_properties(cfg.session_expiry_s, cfg.receive_maximum),
            )
        else:
            client.connect_async(cfg.broker.host, cfg.broker.port, keepalive=30)
        client.loop_start()
        return client

    # --- database side (the writer thread) ---------------------------------------------

    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.config.database_url, autocommit=True,
                                         connect_timeout=5)
        return self._conn

    def _drop_db(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def _refresh_registry(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._registry_at > self.config.registry_refresh_s:
            self._registry = store.load_registry(self._db())
            self._registry_at = now
            self._missing.clear()

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
            self._refresh_registry(force=True)
        info = DeviceInfo(row[0], device_id, row[1], row[2] == "revoked")
        self._registry.devices[device_id] = info
        return info

    def _build(self, received: list[_Received]) -> Batch:
        builder = BatchBuilder(self._registry, self.config.limits, self.config.topic_prefix,
                               self._lookup_device, self._topics)
        now = self.clock_ms()
        for r in received:
            builder.add(r.topic, r.payload, r, now)
        return builder.take()

    def _write_with_retry(self, received: list[_Received], stop: threading.Event) -> Committed:
        delay = 0.1
        while True:
            try:
                self._refresh_registry()
                batch = self._build(received)
                started = time.perf_counter()
                committed = write_batch(self._db(), batch, feed=self.config.feed)
                self.metrics.commit_seconds.observe(time.perf_counter() - started)
                for d in batch.dead:
                    self.metrics.dead_letters.labels(d.reason).inc()
                return committed
            except psycopg.Error as exc:
                self.metrics.db_errors.inc()
                log.warning("batch of %d not stored (%s); retrying in %.1fs",
                            len(received), exc.__class__.__name__, delay)
                self._drop_db()
                if stop.wait(delay):
                    raise _Abandoned from exc
                delay = min(delay * 2, self.config.retry_max_s)

    def _prune_ledger(self) -> None:
        """Forget dedupe keys older than any message still accepted (plus a day)."""
        if time.monotonic() - self._pruned_at < self.config.ledger_prune_every_s:
            return
        self._pruned_at = time.monotonic()
        keep_s = self.config.limits.max_past_age_ms / 1000 + 86_400
        try:
            self._db().execute(
                "DELETE FROM ingest_messages WHERE received_at < now() - make_interval(secs => %s)",
                (keep_s,),
            )
        except psycopg.Error:
            log.warning("pruning the dedupe ledger failed; will try again later")
            self._drop_db()

    def _ack(self, received: list[_Received]) -> None:
        client = self._client
        generation = self._generation
        if client is None:
            return
        if isinstance(client, IngestClient):
            client.ack_many([r.mid for r in received if r.qos == 1 and r.generation == generation])
            for r in received:
                if r.qos == 2 and r.generation == generation:
                    client.ack(r.mid, r.qos)
            return
        for r in received:
            if r.qos > 0 and r.generation == generation:
                client.ack(r.mid, r.qos)

    def _collect(self, stop: threading.Event) -> list[_Received]:
        cfg = self.config
        inbox = self._inbox
        while not inbox:
            self._wake.wait(0.2)
            self._wake.clear()
            if stop.is_set() and not inbox:
                return []
        deadline = inbox[0].at + cfg.batch_max_wait_s
        out: list[_Received] = []
        rows = 0
        while len(out) < cfg.batch_max_messages and rows < cfg.batch_max_rows:
            if inbox:
                r = inbox.popleft()
                out.append(r)
                rows += 1 + len(r.payload) // 40  # cheap estimate; exact count after decode
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._wake.wait(remaining)
            self._wake.clear()
        return out

    def run(self, stop: threading.Event) -> None:
        """Receive and store until `stop` is set; then store what was received and return."""
        self._refresh_registry(force=True)
        self._client = self._start_mqtt()
        try:
            while not stop.is_set():
                received = self._collect(stop)
                if not received:
                    continue
                self.metrics.received.inc(len(received))
                self.metrics.pending.set(len(self._inbox) + len(received))
                self._writing = True
                try:
                    try:
                        committed = self._write_with_retry(received, stop)
                    except _Abandoned:
                        log.warning("stopping with %d messages unstored; the broker "
                                    "redelivers them", len(received))
                        break
                    self._ack(received)
                    self._account(received, committed)
                    self._prune_ledger()
                    if self.on_commit is not None and (committed.rows or committed.events):
                        try:
                            self.on_commit(committed)
                        except Exception:
                            log.exception("on_commit handler failed; batch is stored")
                finally:
                    self._writing = False  # also when a write fails or stops
        finally:
            # whatever is still in the inbox was never acked: the broker keeps it in the
            # session and hands it to this client id (or its share group) again
            client = self._client
            if client is not None:
                client.disconnect()
                client.loop_stop()
            self._drop_db()

    def _account(self, received: list[_Received], committed: Committed) -> None:
        m = self.metrics
        m.stored_messages.inc(committed.messages - committed.dead_letters - committed.duplicates)
        m.stored_rows.inc(committed.rows)
        m.stored_events.inc(len(committed.events))
        m.duplicates.inc(committed.duplicates)
        m.batch_messages.observe(len(received))
        m.lag_seconds.set(time.monotonic() - received[0].at)
