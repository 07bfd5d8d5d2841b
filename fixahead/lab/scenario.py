"""Run a simulated fleet through the whole platform: provision, publish, process, drain.

Used by `fixahead up` (the demo) and `fixahead evaluate` (a scored scenario). The fleet is
the simulator's; the customers and technicians around it come from `fixahead.lab.demo`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from devices.catalog import load_catalog
from devices.provisioning import provision_fleet
from fixahead.lab.demo import household_key, provision_world
from fixahead.lab.trouble import SimClock, Trouble, TroubleSpec
from fixahead.mail import mail
from fixahead.pipeline import Pipeline
from fixahead.services import Endpoints, platform
from fixahead.settings import Settings
from fixahead.storage import refresh_rollup
from simulator.fleet import build_fleet
from simulator.groundtruth import write_ground_truth
from simulator.publisher import FleetPublisher, Pace, Progress
from simulator.run import RunSpec, items, publish_scenario, scenario_for
from simulator.timebase import DAY_MS, Window, max_past_age_s, window_ending_now
from simulator.traffic import Traffic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScenarioSpec:
    """A simulated run: how many households, how many days, how fast, which seed."""

    households: int
    days: float
    seed: int = 1
    speed: float = 0.0  # 0: as fast as possible
    fault_rate: float = 1.0
    network_rate: float = 0.01


def provision(ends: Endpoints, settings: Settings, spec: ScenarioSpec, window: object
              ) -> tuple[object, dict[str, str]]:
    """Register the fleet's devices (fresh secrets, returned), their households and
    customers, and technicians."""
    fleet = build_fleet(spec.households, window, spec.seed, load_catalog())  # type: ignore[arg-type]
    with psycopg.connect(ends.database_url, autocommit=True) as conn:
        secrets = provision_fleet(conn, [(d.device_id, d.model_id) for d in fleet.devices])
    by_household: dict[str, list[str]] = {}
    for d in fleet.devices:
        by_household.setdefault(household_key(fleet.tag, d.household), []).append(d.device_id)
    with psycopg.connect(ends.database_url, autocommit=True) as conn:
        provision_world(conn, by_household, spec.seed)
    ends.refresh_broker_accounts(settings.topic_prefix, secrets)
    return fleet, secrets


def publish(ends: Endpoints, settings: Settings, spec: ScenarioSpec, window: object, out: Path,
            on_progress: Callable[[Progress], None] | None = None,
            answering: dict[str, str] | None = None, stop: threading.Event | None = None,
            trouble: Trouble | None = None,
            after: Callable[[Progress], None] | None = None) -> Progress:
    """Plan the scenario, write its ground truth to `out`, and publish it, then call `after`.
    With `answering` (device secrets), the appliances also answer diagnostics commands as
    themselves, until `stop` is set."""
    run = RunSpec(households=spec.households, window=window, seed=spec.seed,  # type: ignore[arg-type]
                  speed=spec.speed, url=ends.platform_mqtt_url, prefix=settings.topic_prefix,
                  fault_rate=spec.fault_rate, network_rate=spec.network_rate,
                  batch_s=60.0 if 0 < spec.speed <= 60 else 1800.0)
    scenario = scenario_for(run)
    write_ground_truth(out, scenario, speed=spec.speed, days=spec.days,
                       prefix=settings.topic_prefix)
    if answering is None:
        progress = (publish_scenario(run, scenario, on_progress=on_progress) if trouble is None
                    else _publish_through(run, scenario, trouble))
        if after is not None:
            after(progress)
        return progress
    from simulator.commands import responder_for

    # the responder connects as each device (its own credentials, its own topics)
    responder = responder_for(scenario, ends.platform_mqtt_url, answering,
                              prefix=settings.topic_prefix)
    responder.start()
    try:
        progress = publish_scenario(run, scenario, on_progress=on_progress)
        if after is not None:
            after(progress)
        if stop is not None:
            stop.wait()  # keep answering after the replay, for the life of the demo
        return progress
    finally:
        responder.stop(offline=True)


def _publish_through(run: RunSpec, scenario: object, trouble: Trouble) -> Progress:
    """`simulator.run.publish_scenario`, with the stream passed through the injected
    trouble (which also moves the simulation's clock as messages go out)."""
    traffic = Traffic(scenario, run.prefix, batch_s=run.batch_s)  # type: ignore[arg-type]
    pace = Pace(run.speed, run.window.start_ms, time.monotonic())
    with FleetPublisher(run.url, connections=run.connections,
                        client_prefix=f"{run.client_prefix}-{run.seed}-trouble",
                        window=run.window_inflight, prefix=run.prefix) as pub:
        pub.connect_all([d.device_id for d in scenario.devices])  # type: ignore[attr-defined]
        return pub.run(trouble.apply(items(traffic)), pace)


def wait_drained(pipeline: Pipeline, published: int, timeout_s: float = 3600) -> None:
    """Wait until ingest has received everything published and the loop went quiet."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        received = pipeline.worker.metrics.registry.get_sample_value(
            "fixahead_ingest_received_messages_total") or 0
        if received >= published and pipeline.idle(quiet_s=3.0):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the platform did not drain {published} messages in {timeout_s:.0f} s")


def _window(days: float, speed: float, end_ms: int | None) -> tuple[int, int, Window]:
    """(now, end, window) of a scenario: played as fast as possible it ends at `end_ms`
    (default: the last UTC midnight); played at a speed, now."""
    now = int(time.time() * 1000)
    last_midnight = now // DAY_MS * DAY_MS
    end = now if speed > 0 else min(now, last_midnight if end_ms is None else end_ms)
    return now, end, window_ending_now(days, speed, end)


def scenario_dir(settings: Settings, *, days: float, seed: int, end_ms: int | None = None
                 ) -> Path:
    """Where `run_scenario` (as fast as possible) writes this seed and window's ground truth."""
    window = _window(days, 0.0, end_ms)[2]
    return settings.data_dir / "simulations" / f"s{seed}-{window.start_ms}"


def run_scenario(settings: Settings, *, households: int, days: float, seed: int,
                 speed: float = 0.0, fault_rate: float = 1.0, end_ms: int | None = None,
                 trouble: TroubleSpec | None = None) -> Path:
    """Run a whole scenario through the platform; return its ground-truth directory.

    Played as fast as possible, the window ends at `end_ms` (default: the last UTC
    midnight), so the same seed gives the same households, faults and outages and runs
    can be compared."""
    spec = ScenarioSpec(households, days, seed, speed, fault_rate)
    now, end, window = _window(days, speed, end_ms)
    settings = settings.model_copy(update={"max_past_age_s": max(
        settings.max_past_age_s, max_past_age_s(window, speed) + (now - end) / 1000)})
    out = settings.data_dir / "simulations" / f"s{seed}-{window.start_ms}"
    # the platform trusts the simulation's clock: how far the fleet has published
    clock = SimClock(window.start_ms)
    injected = Trouble(trouble or TroubleSpec(), window.start_ms, window.end_ms, clock,
                       lambda ms, ok: pipeline.beat(ms, ok))
    with platform(settings) as ends, mail(settings) as (smtp, email, _sink):
        provision(ends, settings, spec, window)
        pipeline = Pipeline(settings, ends, smtp=smtp, email=email, trusted_ms=clock.now_ms,
                            trouble=injected.state,
                            slow_commit_s=(trouble.slow_db_ms / 1000) if trouble else 0.0)
        pipeline.start()
        try:
            progress = publish(ends, settings, spec, window, out, trouble=injected)
            (out / "trouble.json").write_text(json.dumps(
                {"windows": injected.windows, "held": injected.held, "lost": injected.lost,
                 "slow_db_ms": trouble.slow_db_ms if trouble else 0.0}))
            if injected.windows:
                log.info("injected %s: %d messages held, %d lost", injected.windows,
                         injected.held, injected.lost)
            log.info("published %d messages; waiting for the platform", progress.published)
            wait_drained(pipeline, progress.published)
            refresh_loaded(ends.database_url, window.start_ms)
            time.sleep(2.0)  # let the sender deliver what the last decisions wrote
        finally:
            pipeline.stop()
    return out


def drain_and_refresh(pipeline: Pipeline, database_url: str, start_ms: int
                      ) -> Callable[[Progress], None]:
    """What the demo does once its fleet has published: wait for the platform to store it all,
    then materialize the rollup over it."""
    def after(progress: Progress) -> None:
        wait_drained(pipeline, progress.published)
        refresh_loaded(database_url, start_ms)

    return after


def refresh_loaded(database_url: str, start_ms: int) -> None:
    """After a bulk load of telemetry from `start_ms` on: materialize the hourly rollup over it
    (TimescaleDB; a no-op where the rollup is a view)."""
    from datetime import UTC, datetime

    began = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        if refresh_rollup(conn, datetime.fromtimestamp(start_ms / 1000, UTC), None):
            log.info("refreshed telemetry_hourly in %.1f s", time.monotonic() - began)


def summary(database_url: str, stored_messages: int) -> dict[str, int]:
    """The figures `fixahead up` prints: messages stored, incidents, emails, visits booked."""
    with psycopg.connect(database_url) as conn:
        incidents = conn.execute("SELECT count(*) FROM incidents").fetchone()
        emails = conn.execute("SELECT count(*) FROM email_outbox WHERE state = 'sent'").fetchone()
        visits = conn.execute("SELECT count(*) FROM visits WHERE state IN "
                              "('held', 'booked')").fetchone()
    return {"messages_stored": stored_messages, "incidents": int(incidents[0]),
            "emails": int(emails[0]), "visits_booked": int(visits[0])}


def run_in_background(target: Callable[[], object]) -> threading.Thread:
    """Run `target` on a daemon thread, logging (not raising) what it raises."""
    def guarded() -> None:
        try:
            target()
        except Exception:
            log.exception("background task failed")

    t = threading.Thread(target=guarded, daemon=True)
    t.start()
    return t
