"""The ingest worker: receive over MQTT, batch, write in one transaction, then acknowledge.

Two threads: paho's network thread appends each message to an inbox; the writer thread (the
caller of `run`) drains the inbox into batches by count, rows and time, writes a batch, and
only after its commit sends the PUBACKs. Messages of a connection that has since dropped are
not acked (their packet ids may be reused): the broker redelivers them and the dedupe ledger
skips their rows. Writing is `BatchStore`'s: retried while the database is away, and messages
the database refuses for their data are bisected out and dead-lettered (ingest/storing.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from devices.topics import acl_notice_topic, shared_subscription, subscription
from ingest.config import IngestConfig
from ingest.metrics import IngestMetrics
from ingest.mqttclient import (
    MQTT5,
    IngestClient,
    connect_properties,
    detect_protocol,
    make_client,
)
from ingest.storing import Abandoned, BatchStore
from ingest.writer import Committed

__all__ = ["IngestConfig", "IngestWorker"]

log = logging.getLogger(__name__)

CHANNELS = ("telemetry", "events", "status")


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
        self.store = BatchStore(config, self.metrics, clock_ms)
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
        # the broker's ACL denials
        topics.append((shared_subscription(acl_notice_topic(self.config.topic_prefix), group), 1))
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
        self.store.refresh_registry(force=True)
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
                        committed = self.store.write(received, stop)
                    except Abandoned:
                        log.warning("stopping with %d messages unstored; the broker "
                                    "redelivers them", len(received))
                        break
                    self._ack(received)
                    self._account(received, committed)
                    self.store.prune()
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
            self.store.close()

    def _account(self, received: list[_Received], committed: Committed) -> None:
        m = self.metrics
        m.stored_messages.inc(committed.messages - committed.dead_letters - committed.duplicates)
        m.stored_rows.inc(committed.rows)
        m.stored_events.inc(len(committed.events))
        m.duplicates.inc(committed.duplicates)
        m.batch_messages.observe(len(received))
        m.lag_seconds.set(time.monotonic() - received[0].at)
