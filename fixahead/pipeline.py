"""The whole loop in one process: ingest → rules → dispatch → email, with dispatch's jobs.

Ingest's writer thread hands each committed batch to a bounded queue; one processor thread
feeds the rule engine, which stores incident changes. The queue is bounded so a slow rule
step slows ingest down (the broker holds the rest) instead of growing memory. Dispatch runs
on a thread of its own, as the production dispatch role's loop (`fixahead.roles`): it reads
`incident_changes` from its saved position, so a slow decision never holds up the rules (and,
through the queue, ingest), and an incident stored just before the process dies is still
dispatched, once, after a restart. Time is event time: the platform clock is the newest event
time committed, so a simulated month runs its holds, quiet hours and reminders in simulated
time; each decision takes its incident's event time.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from devices.diagnostics_mqtt import DiagnosticsLink
from devices.diagnostics_mqtt import serve as serve_diagnostics
from dispatch.email.render import EmailSettings
from dispatch.email.sender import SmtpSettings
from dispatch.service import Outcome
from fixahead.listening import Bounds, Health, ListeningRecorder, healthy
from fixahead.roles import IncidentFollower, dispatch_config, run_dispatch, storm_config
from fixahead.services import Endpoints
from fixahead.settings import Settings
from fixahead.wiring import ingest_config, standard_engine
from ingest.mqttclient import MQTT311
from ingest.worker import IngestWorker
from ingest.writer import Committed
from rules.engine import batch_time
from rules.service import RulesService

log = logging.getLogger(__name__)


def diagnostics_link(ends: Endpoints, prefix: str, *, clock: object = None) -> DiagnosticsLink:
    """The remote-diagnostics link as the platform account (commands out, replies in)."""
    kwargs: dict[str, object] = {"prefix": prefix, "listen_url": ends.database_url}
    if clock is not None:
        kwargs["clock"] = clock
    return DiagnosticsLink.from_url(
        lambda: psycopg.connect(ends.database_url, autocommit=True), ends.platform_mqtt_url,
        **kwargs)


def _sample(metrics: object, name: str) -> float:
    """One sample of an ingest worker's metrics registry (0 when it has none yet)."""
    return float(metrics.registry.get_sample_value(name) or 0.0)  # type: ignore[attr-defined]


class EventClock:
    """Platform time: the newest event time committed so far (wall time before any data)."""

    def __init__(self) -> None:
        self._ms = 0
        self._lock = threading.Lock()

    def advance(self, ms: int) -> None:
        """Move forward to `ms` (never back)."""
        with self._lock:
            self._ms = max(self._ms, ms)

    def ms(self) -> int:
        """The current platform time in ms since the epoch (0 before any data)."""
        return self._ms

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
                 email: EmailSettings, owner: str = "single-process",
                 trusted_ms: Callable[[], int] | None = None,
                 trouble: Callable[[], tuple[int, bool]] | None = None,
                 bounds: Bounds | None = None, slow_commit_s: float = 0.0) -> None:
        """`trusted_ms` is the clock time-driven rules may not pass (default: the wall
        clock); `trouble`, in a scenario, gives (trusted ms, injected outage) together."""
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
        self._dispatch_stop = threading.Event()  # set after the rules thread has drained
        self._wake = threading.Event()  # incidents were stored: dispatch need not wait
        self._handling = False
        self.worker = IngestWorker(
            ingest_config(settings, ends.database_url, ends.mqtt_url,
                          protocol=MQTT311 if ends.embedded_broker else None, feed=False),
            on_commit=self._on_commit)
        # every opening settles 10 minutes of event time first, so a storm's first openings
        # are held with the rest (a simulated month plays minutes in milliseconds)
        self.follower = IncidentFollower(on_outcome=self._count, on_error=self._failed,
                                         storms=storm_config(settings, settle_ms=10 * 60_000),
                                         clock=self.clock.now, config=dispatch_config(settings))
        self._dispatcher: threading.Thread | None = None
        self.trusted_ms = trusted_ms or (lambda: int(time.time() * 1000))
        self.trouble = trouble
        self.bounds = bounds or Bounds()
        self._db_errors = 0.0
        self.slow_commit_s = slow_commit_s
        self.recorder = ListeningRecorder(owner, max_gap_ms=None if trouble else 10_000)
        self._beat_lock = threading.Lock()

    # --- ingest's thread --------------------------------------------------------------

    def _on_commit(self, committed: Committed) -> None:
        if self.slow_commit_s:
            time.sleep(self.slow_commit_s)  # injected: a slow database holds ingest up
        while not self._stop.is_set():
            try:
                self._queue.put(committed, timeout=0.5)
                return
            except queue.Full:
                continue  # backpressure: ingest waits, the broker keeps the rest

    # --- the processor thread ---------------------------------------------------------

    def _process(self, stop: threading.Event) -> None:
        with psycopg.connect(self.ends.database_url, autocommit=True) as rules_conn:
            engine = standard_engine(generic=self.settings.rules_generic_detector)
            rules = RulesService(rules_conn, engine, owner=self.owner)
            rules.claim()
            try:
                while not stop.is_set() or not self._queue.empty():
                    try:
                        c = self._queue.get(timeout=0.2)
                    except queue.Empty:
                        try:
                            rules.apply_commands()  # people's commands, while no data comes
                        except Exception:
                            self.counters.errors += 1
                            log.exception("applying incident commands failed")
                        continue
                    self._handling = True
                    try:
                        self._handle(rules, rules_conn, c)
                    except Exception:
                        self.counters.errors += 1
                        log.exception("processing a committed batch failed")
                    self.counters.batches += 1
                    self.counters.last_processed = time.monotonic()
                    self._handling = False
            finally:
                rules.close()

    def _handle(self, rules: RulesService, conn: psycopg.Connection, c: Committed) -> None:
        """Evaluate one committed batch and store its incident changes (`conn` is the rules
        connection; dispatch reads the changes on its own thread)."""
        if len(c.ts_ms) or c.events:  # the bulk of the batch, as the rule engine's clock
            self.clock.advance(min(batch_time(c.ts_ms, [e[0] for e in c.events]),
                                   self.trusted_ms()))
        with self._beat_lock:
            listening = self.recorder.listening()
        rules.engine.trust(self.trusted_ms(), listening)
        changes = rules.handle(c.ts_ms, c.device, c.metric, c.value, c.events)
        if changes:
            self.counters.incidents_changed += len(changes)
            self._wake.set()

    # --- the platform's own health, as listening intervals -----------------------------

    def beat(self, now_ms: int, listening: bool, conn: psycopg.Connection | None = None) -> None:
        """Record one judgement of whether the platform listened at trusted `now_ms`."""
        with self._beat_lock:
            self.recorder.beat(conn, now_ms, listening)

    def _judge(self) -> tuple[int, bool]:
        if self.trouble is not None:
            now, down = self.trouble()
            return now, self.worker.connected and not down
        now = self.trusted_ms()
        m = self.worker.metrics
        lag = None if self.clock.ms() == 0 else (now - self.clock.ms()) / 1000
        errors, self._db_errors = self._db_errors, _sample(m, "fixahead_ingest_db_errors_total")
        return now, healthy(Health(
            connected=self.worker.connected, committing=errors == self._db_errors,
            backlog_s=_sample(m, "fixahead_ingest_lag_seconds"),
            data_lag_s=lag, rules_current=self._queue.qsize() < self._queue.maxsize * 3 // 4),
            self.bounds)

    def _listen(self, stop: threading.Event) -> None:
        with psycopg.connect(self.ends.database_url, autocommit=True) as conn:
            while not stop.wait(0.25):
                try:
                    now, ok = self._judge()
                    self.beat(now, ok, conn)
                except psycopg.OperationalError:
                    self.beat(self.trusted_ms(), False)  # no database: not committing
                    log.warning("listening record: database unavailable")

    # --- the dispatch thread: the dispatch role's loop on the event clock ---------------

    def _count(self, outcome: Outcome | None) -> None:
        if outcome is not None and not outcome.duplicate:
            self.counters.decisions += 1

    def _failed(self, _error: Exception) -> None:
        self.counters.errors += 1

    def _dispatch(self, stop: threading.Event) -> None:
        run_dispatch(self.ends.database_url, stop, smtp=self.smtp, email=self.email,
                     clock=self.clock.now, follower=self.follower, wake=self._wake,
                     deliver_every_s=1.0)

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Start every thread and the scheduled jobs; returns once ingest is subscribed."""
        for name, target in (("ingest", self.worker.run), ("process", self._process),
                             ("listening", self._listen)):
            t = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
            t.start()
            self._threads.append(t)
        self._dispatcher = threading.Thread(target=self._dispatch, args=(self._dispatch_stop,),
                                            name="dispatch", daemon=True)
        self._dispatcher.start()
        link = diagnostics_link(self.ends, self.settings.topic_prefix, clock=self.clock.now)
        t = threading.Thread(target=serve_diagnostics, args=(link, self._stop),
                             name="diagnostics", daemon=True)
        t.start()
        self._threads.append(t)
        if not self.worker.ready.wait(30):
            raise RuntimeError("the ingest worker did not subscribe within 30 s")

    def _dispatched(self) -> bool:
        """Whether dispatch read to the end after the last batch's incidents were stored
        (or its thread is gone, so waiting for it would never end)."""
        if self._dispatcher is not None and not self._dispatcher.is_alive():
            return True
        return self.follower.caught_up_at > self.counters.last_processed

    def idle(self, quiet_s: float = 2.0) -> bool:
        """Whether nothing arrived or was processed for `quiet_s` and dispatch has read every
        incident change stored so far (a scenario has drained)."""
        return (self._queue.empty() and not self._handling and not self.worker.busy
                and time.monotonic() - self.counters.last_processed > quiet_s
                and self._dispatched())

    def stop(self, dispatch_drain_s: float = 30.0) -> None:
        """Stop ingest, drain the processor, let dispatch read what it stored (up to
        `dispatch_drain_s`), then stop dispatch, its jobs and the sender."""
        self._stop.set()
        for t in self._threads:
            t.join(60)
        deadline = time.monotonic() + dispatch_drain_s
        while (self._dispatcher is not None and self._dispatcher.is_alive()
               and not self._dispatched() and time.monotonic() < deadline):
            self._wake.set()
            time.sleep(0.05)
        self._dispatch_stop.set()
        self._wake.set()
        if self._dispatcher is not None:
            self._dispatcher.join(60)
