"""The production roles as loops: `fixahead run rules` and `fixahead run dispatch`.

Rules workers read what ingest committed from `ingest_feed` (ingest runs with the feed on),
take leases on device partitions, and keep their feed position per partition with the lease
epoch; dispatch workers read newly opened incidents from `incident_changes`. Both consume in
id order through `GapGuard`, and both are safe to replay: incident upserts only move forward
by version, and dispatch decisions are keyed by incident and action.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge, ProcessCollector

from devices.gapguard import GapGuard
from dispatch import hold
from dispatch.email.render import EmailSettings
from dispatch.email.sender import SmtpSettings, deliver_due
from dispatch.jobs import build_scheduler
from dispatch.ports import Ports
from dispatch.service import DispatchConfig, Outcome, dispatch_incident
from dispatch.storm import StormConfig
from fixahead.listening import load_listening
from fixahead.services import connector
from fixahead.settings import Settings
from fixahead.storage import StorageJobMetrics, check_storage_jobs
from fixahead.storms import guard_step
from fixahead.wiring import dispatch_ports, standard_engine
from ingest.feed import load_positions, prune_feed, read_feed, save_positions
from rules import commandstore
from rules.changes import read_changes
from rules.service import RulesService

log = logging.getLogger(__name__)

RULES = "rules"
DISPATCH = "dispatch"


class RoleMetrics:
    """Prometheus metrics of a rules or dispatch worker, on a registry of its own."""

    def __init__(self, role: str) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        r = self.registry
        self.batches = Counter(f"fixahead_{role}_batches", "Batches consumed", registry=r)
        self.items = Counter(f"fixahead_{role}_items",
                             "Readings evaluated (rules) or incidents dispatched (dispatch)",
                             registry=r)
        self.changes = Counter(f"fixahead_{role}_changes",
                               "Incident changes written (rules) or emails sent (dispatch)",
                               registry=r)
        self.position = Gauge(f"fixahead_{role}_position", "Last consumed log id", registry=r)
        self.partitions = Gauge(f"fixahead_{role}_partitions", "Partitions held", registry=r)
        self.errors = Counter(f"fixahead_{role}_errors", "Failed iterations", registry=r)
        # dispatch runs the periodic jobs, TimescaleDB's among them
        self.storage = StorageJobMetrics(r) if role == DISPATCH else None
        self.holds = HoldMetrics(r) if role == DISPATCH else None


class HoldMetrics:
    """What the storm guard holds, as of dispatch's last step."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.held = Gauge("fixahead_dispatch_held_emails",
                          "Customer emails held by open fleet incidents (storms)", registry=r)
        self.fleets = Gauge("fixahead_dispatch_fleet_incidents_open", "Open fleet incidents",
                            registry=r)
        self.capped = Gauge("fixahead_dispatch_capped_emails",
                            "Openings waiting for the hourly email cap", registry=r)

    def update(self, counts: hold.HoldCounts) -> None:
        """Set the gauges from the guard's counts."""
        self.held.set(counts.held)
        self.fleets.set(counts.open_fleets)
        self.capped.set(counts.capped)


def worker_name(role: str) -> str:
    """A name for this process in leases and logs."""
    import os

    return f"{role}-{socket.gethostname()}-{os.getpid()}"


def run_rules(database_url: str, stop: threading.Event, *, partitions: int = 8,
              checkpoint_every_s: float = 10.0, metrics: RoleMetrics | None = None,
              generic: bool = False) -> None:
    """Evaluate the rules over the ingest feed for the partitions this worker can lease."""
    m = metrics or RoleMetrics(RULES)
    engine = standard_engine(generic=generic)
    with psycopg.connect(database_url, autocommit=True) as conn, \
            psycopg.connect(database_url, autocommit=True) as listen:
        listen.execute("LISTEN ingest_feed")
        listen.execute(f"LISTEN {commandstore.NOTIFY_CHANNEL}")
        service = RulesService(conn, engine, owner=worker_name(RULES), partitions=partitions,
                               checkpoint_every_s=float("inf"))
        guard = GapGuard()
        positions: dict[int, int] = {}
        last_claim = last_checkpoint = heard_at = 0.0
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now - last_claim > service.lease_s / 3:
                    for part in service.claim():
                        positions[part] = load_positions(conn, RULES).get(part, 0)
                        log.info("took partition %d at feed id %d", part, positions[part])
                    positions = {p: v for p, v in positions.items() if p in service.epochs}
                    last_claim = now
                if not positions:
                    stop.wait(1.0)
                    continue
                service.apply_commands()  # people's acknowledges, resolves and snoozes
                batches = read_feed(conn, min(positions.values()), guard)
                if batches and time.monotonic() - heard_at > 2.0:
                    # silence only over what ingest recorded as listened, up to the wall clock
                    wall = int(time.time() * 1000)
                    service.engine.trust(wall, load_listening(conn, wall - 7 * 86_400_000))
                    heard_at = time.monotonic()
                for b in batches:
                    part_of = b.device.astype(np.int64) % partitions
                    fresh = np.array([b.id > positions.get(int(p), b.id) for p in
                                      range(partitions)])[part_of]
                    events = [e for e in b.events
                              if b.id > positions.get(e[1] % partitions, b.id)]
                    changes = service.handle(b.ts_ms[fresh], b.device[fresh], b.metric[fresh],
                                             b.value[fresh], events)
                    for part in positions:
                        positions[part] = max(positions[part], b.id)
                    m.batches.inc()
                    m.items.inc(int(fresh.sum()))
                    m.changes.inc(len(changes))
                    m.position.set(b.id)
                m.partitions.set(len(positions))
                if time.monotonic() - last_checkpoint > checkpoint_every_s:
                    service.checkpoint()
                    save_positions(conn, RULES, {p: (positions[p], service.epochs[p])
                                                 for p in positions if p in service.epochs})
                    prune_feed(conn)
                    last_checkpoint = time.monotonic()
                if not batches:
                    for _ in listen.notifies(timeout=0.5, stop_after=1):
                        pass
        finally:
            service.close()
            save_positions(conn, RULES, {p: (positions[p], 0) for p in positions})


Clock = Callable[[], datetime]
DISPATCHED_CHANGES = ("opened", "reopened")


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _dispatch_changes(conn: psycopg.Connection, after_id: int, guard: GapGuard, limit: int,
                      metrics: RoleMetrics | None,
                      on_outcome: Callable[[Outcome | None], None] | None,
                      on_error: Callable[[Exception], None] | None,
                      storms: StormConfig | None = None,
                      config: DispatchConfig | None = None,
                      ports: Ports | None = None) -> tuple[int, bool]:
    """Dispatch openings after change `after_id`; the new position, and whether nothing
    visible was left behind (no gap waited on, fewer rows than `limit`)."""
    rows = read_changes(conn, after_id, limit)
    take = guard.accept(after_id, [r[0] for r in rows])
    for change_id, change, key, device_id, model_id, fault, at, first in rows[:take]:
        if (change in DISPATCHED_CHANGES or first) and device_id is not None and storms:
            hold.offer(conn, hold.Held(key, device_id, model_id, fault, at))  # the guard decides
        elif (change in DISPATCHED_CHANGES or first) and device_id is not None:
            try:
                outcome = dispatch_incident(conn, incident_id=key, device_id=device_id,
                                            model_id=model_id, code=fault, now=at,
                                            ports=ports or dispatch_ports(),
                                            config=config or DispatchConfig())
            except psycopg.OperationalError:
                raise  # the database went away: retry from this position, skip nothing
            except Exception as e:
                if on_error is None:
                    raise
                log.exception("dispatching incident %s failed; skipping it", key)
                on_error(e)
                outcome = None
            if metrics is not None:
                metrics.items.inc()
            if on_outcome is not None:
                on_outcome(outcome)
        after_id = change_id
    return after_id, take == len(rows) < limit


def dispatch_new_incidents(conn: psycopg.Connection, after_id: int, guard: GapGuard,
                           limit: int = 100, metrics: RoleMetrics | None = None) -> int:
    """Dispatch incidents opened or reopened after change `after_id`; return the new position."""
    return _dispatch_changes(conn, after_id, guard, limit, metrics, None, None)[0]


def dispatch_config(settings: Settings) -> DispatchConfig:
    """Dispatch's tunables that the settings set."""
    return DispatchConfig(hold_minutes=settings.proposal_hold_hours * 60)


def storm_config(settings: Settings, *, settle_ms: int = 0) -> StormConfig:
    """The storm guard and hourly email cap as the settings set them."""
    return StormConfig(window_ms=int(settings.storm_window_minutes * 60_000),
                       count=settings.storm_count, share=settings.storm_share,
                       min_count=settings.storm_min_count, settle_ms=settle_ms,
                       cap_per_hour=settings.email_cap_per_hour)


class IncidentFollower:
    """Dispatch's reader of `incident_changes`: from the saved position, through a GapGuard,
    each opening dispatched once, the position saved after each step. It also tells a
    caller that drains (the single process) when it last read to the end."""

    def __init__(self, *, on_outcome: Callable[[Outcome | None], None] | None = None,
                 on_error: Callable[[Exception], None] | None = None, limit: int = 100,
                 guard: GapGuard | None = None, storms: StormConfig | None = None,
                 clock: Clock | None = None, config: DispatchConfig | None = None,
                 ports: Ports | None = None) -> None:
        self.config = config or DispatchConfig()
        self.ports = ports or dispatch_ports()  # what dispatch reads of other areas
        self.on_outcome = on_outcome
        self.on_error = on_error
        self.limit = limit
        self.guard = guard or GapGuard()
        self.position: int | None = None
        self.storms = storms  # the storm guard and hourly cap (None: dispatch at once)
        self.clock = clock or _wall_clock
        self.caught_up_at = 0.0  # monotonic start of the last step that left nothing behind

    def step(self, conn: psycopg.Connection, metrics: RoleMetrics | None = None) -> bool:
        """Dispatch what changed since the position and save it; whether it moved."""
        if self.position is None:
            self.position = load_positions(conn, DISPATCH).get(0, 0)
        started = time.monotonic()
        moved, complete = _dispatch_changes(conn, self.position, self.guard, self.limit,
                                            metrics, self.on_outcome, self.on_error, self.storms,
                                            self.config, self.ports)
        busy = moved != self.position
        if self.storms is not None:
            busy = guard_step(conn, self.storms, self.clock(), self.on_outcome,
                              self.config, self.ports) > 0 or busy
            if metrics is not None and metrics.holds is not None:
                metrics.holds.update(hold.counts(conn))
        if busy:
            self.position = moved
            save_positions(conn, DISPATCH, {0: (moved, 0)})
            if metrics is not None:
                metrics.position.set(moved)
        if complete:
            self.caught_up_at = started
        return busy


def run_dispatch(database_url: str, stop: threading.Event, *, smtp: SmtpSettings,
                 email: EmailSettings, metrics: RoleMetrics | None = None,
                 clock: Clock = _wall_clock, follower: IncidentFollower | None = None,
                 wake: threading.Event | None = None, idle_s: float = 0.5,
                 deliver_every_s: float = 0.0, storage_every_s: float = 60.0) -> None:
    """Turn incidents into decisions and emails, deliver the outbox, run the jobs (TimescaleDB's
    too, every `storage_every_s`, where its background runs fail: fixahead/storage.py).

    `clock` is the time of the sender and the jobs (wall time in production; the single
    process passes its event clock); decisions take the incident's own event time. `wake`
    cuts the idle wait short when the caller knows incidents were just stored. The outbox
    is delivered on every pass, or at most every `deliver_every_s` (each delivery is an SMTP
    conversation; the single process, where the sink and the sender share one interpreter,
    passes 1 s, as its sender thread did before). A follower
    with `on_error` skips (and reports) an incident or iteration that fails for a reason
    other than the database going away; without it the error ends the worker.
    """
    m = metrics or RoleMetrics(DISPATCH)
    follower = follower or IncidentFollower(storms=StormConfig(), clock=clock)
    scheduler = build_scheduler(connector(database_url), smtp=smtp, email=email,
                                ports=follower.ports, clock=clock)
    # wall time, not `clock`: TimescaleDB schedules its jobs by the database's now()
    scheduler.add_job(check_storage_jobs, "interval", seconds=storage_every_s,
                      id="storage_jobs", args=(connector(database_url), m.storage),
                      next_run_time=datetime.now(UTC))
    scheduler.start()
    delivered = 0.0
    try:
        while not stop.is_set():
            try:
                with psycopg.connect(database_url, autocommit=True) as conn:
                    while not stop.is_set():
                        if wake is not None:
                            wake.clear()  # a wake set from here on is seen by the next wait
                        busy = follower.step(conn, m)
                        if time.monotonic() - delivered >= deliver_every_s:
                            delivered = time.monotonic()
                            report = deliver_due(conn, smtp, email, clock=clock)
                            m.changes.inc(report.sent)
                        m.batches.inc()
                        if not busy:
                            (stop if wake is None else wake).wait(idle_s)
            except psycopg.OperationalError:
                m.errors.inc()
                log.warning("database unavailable; reconnecting in 2 s")
                stop.wait(2.0)
            except Exception as e:
                if follower.on_error is None:
                    raise
                m.errors.inc()
                follower.on_error(e)
                log.exception("a dispatch iteration failed; retrying in 2 s")
                stop.wait(2.0)
    finally:
        scheduler.shutdown(wait=True)
