"""The whole loop in one process: ingest → rules → dispatch → email, with dispatch's jobs.

Ingest's writer thread hands each committed batch to a bounded queue; one processor thread
feeds the rule engine and turns newly opened incidents into dispatch decisions. The queue is
bounded so a slow rule or dispatch step slows ingest down (the broker holds the rest) instead
of growing memory. Time is event time: the platform clock is the newest event time committed,
so a simulated month runs its holds, quiet hours and reminders in simulated time.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from dispatch.diagnostics_mqtt import DiagnosticsLink
from dispatch.diagnostics_mqtt import serve as serve_diagnostics
from dispatch.email.render import EmailSettings
from dispatch.email.sender import SmtpSettings, deliver_due
from dispatch.jobs import build_scheduler
from dispatch.service import dispatch_incident
from fixahead.services import Endpoints, connector
from fixahead.settings import Settings
from fixahead.wiring import ingest_config, standard_engine
from ingest.mqttclient import MQTT311
from ingest.worker import IngestWorker
from ingest.writer import Committed
from rules.engine import batch_time
from rules.service import RulesService

log = logging.getLogger(__name__)

DISPATCHED_CHANGES = ("opened", "reopened")


def diagnostics_link(ends: Endpoints, prefix: str, *, clock: object = None) -> DiagnosticsLink:
    """The remote-diagnostics link as the platform account (commands out, replies in)."""
    kwargs: dict[str, object] = {"prefix": prefix, "listen_url": ends.database_url}
    if clock is not None:
        kwargs["clock"] = clock
    return DiagnosticsLink.from_url(
        lambda: psycopg.connect(ends.database_url, autocommit=True), ends.platform_mqtt_url,
        **kwargs)


class EventClock:
    """Platform time: the newest event time committed so far (wall time before any data)."""

    def __init__(self) -> None:
        self._ms = 0
        self._lock = threading.Lock()

    def advance(self, ms: int) -> None:
        """Move forward to `ms` (never back)."""
        with self._lock:
            self._ms = max(self._ms, ms)

    def now(self) -> datetime:
        """The current platform time."""
        ms = self._ms
        return datetime.now(UTC) if ms == 0 else datetime.fromtimestamp(ms / 1000, UTC)


@dataclass
class Counters:
    """What the loop did, for summaries and readiness."""

    batches: int = 0
    incidents_changed: int = 0
    decisions: int = 0
    errors: int = 0
    last_processed: float = field(default_factory=time.monotonic)


class Pipeline:
    """Ingest worker, rule engine and dispatch wired together in one process."""

    def __init__(self, settings: Settings, ends: Endpoints, *, smtp: SmtpSettings,
                 email: EmailSettings, owner: str = "single-process") -> None:
        self.settings = settings
        self.ends = ends
        self.smtp = smtp
        self.email = email
        self.owner = owner
        self.clock = EventClock()
        self.counters = Counters()
        self._queue: queue.Queue[Committed] = queue.Queue(maxsize=64)
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.worker = IngestWorker(
            ingest_config(settings, ends.database_url, ends.mqtt_url,
                          protocol=MQTT311 if ends.embedded_broker else None, feed=False),
            on_commit=self._on_commit)
        self._device_ids: dict[int, tuple[str, str]] = {}
        self._seen_incidents: set[str] = set()
        self._scheduler = None

    # --- ingest's thread --------------------------------------------------------------

    def _on_commit(self, committed: Committed) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(committed, timeout=0.5)
                return
            except queue.Full:
                continue  # backpressure: ingest waits, the broker keeps the rest

    # --- the processor thread ---------------------------------------------------------

    def _device(self, conn: psycopg.Connection, key: int) -> tuple[str, str]:
        known = self._device_ids.get(key)
        if known is None:
            row = conn.execute("SELECT device_id, model_id FROM devices WHERE id = %s",
                               (key,)).fetchone()
            known = (row[0], row[1]) if row else ("", "")
            self._device_ids[key] = known
        return known

    def _process(self, stop: threading.Event) -> None:
        url = self.ends.database_url
        with psycopg.connect(url, autocommit=True) as rules_conn, \
                psycopg.connect(url, autocommit=True) as conn:
            rules = RulesService(rules_conn, standard_engine(), owner=self.owner)
            rules.claim()
            try:
                while not stop.is_set() or not self._queue.empty():
                    try:
                        c = self._queue.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    try:
                        self._handle(rules, conn, c)
                    except Exception:
                        self.counters.errors += 1
                        log.exception("processing a committed batch failed")
                    self.counters.batches += 1
                    self.counters.last_processed = time.monotonic()
            finally:
                rules.close()

    def _handle(self, rules: RulesService, conn: psycopg.Connection, c: Committed) -> None:
        if len(c.ts_ms) or c.events:  # the bulk of the batch, as the rule engine's clock
            self.clock.advance(batch_time(c.ts_ms, [e[0] for e in c.events]))
        changes = rules.handle(c.ts_ms, c.device, c.metric, c.value, c.events)
        self.counters.incidents_changed += len(changes)
        for ch in changes:
            inc = ch.incident
            # An incident that opened and cleared within one batch comes out as a single
            # change ("auto_cleared"): its first appearance is what dispatch must see.
            first = inc.key not in self._seen_incidents
            self._seen_incidents.add(inc.key)
            if ch.change not in DISPATCHED_CHANGES and not first:
                continue
            device_id, model_id = self._device(conn, inc.device)
            if not device_id:
                continue
            outcome = dispatch_incident(
                conn, incident_id=inc.key, device_id=device_id, model_id=model_id,
                code=inc.fault, now=datetime.fromtimestamp(inc.updated_ms / 1000, UTC))
            if outcome is not None and not outcome.duplicate:
                self.counters.decisions += 1

    # --- the sender thread ------------------------------------------------------------

    def _send(self, stop: threading.Event) -> None:
        with psycopg.connect(self.ends.database_url, autocommit=True) as conn:
            while not stop.wait(1.0):
                try:
                    deliver_due(conn, self.smtp, self.email, clock=self.clock.now)
                except Exception:
                    log.exception("delivering the outbox failed; will retry")

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Start every thread and the scheduled jobs; returns once ingest is subscribed."""
        for name, target in (("ingest", self.worker.run), ("process", self._process),
                             ("sender", self._send)):
            t = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
            t.start()
            self._threads.append(t)
        self._scheduler = build_scheduler(connector(self.ends.database_url), smtp=self.smtp,
                                          email=self.email,
                                          clock=self.clock.now)
        self._scheduler.start()
        link = diagnostics_link(self.ends, self.settings.topic_prefix, clock=self.clock.now)
        t = threading.Thread(target=serve_diagnostics, args=(link, self._stop),
                             name="diagnostics", daemon=True)
        t.start()
        self._threads.append(t)
        if not self.worker.ready.wait(30):
            raise RuntimeError("the ingest worker did not subscribe within 30 s")

    def idle(self, quiet_s: float = 2.0) -> bool:
        """Whether nothing arrived or was processed for `quiet_s` (a scenario has drained)."""
        return (self._queue.empty() and not self.worker.busy
                and time.monotonic() - self.counters.last_processed > quiet_s)

    def stop(self) -> None:
        """Stop ingest, drain the processor, stop jobs and the sender."""
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
        for t in self._threads:
            t.join(60)
