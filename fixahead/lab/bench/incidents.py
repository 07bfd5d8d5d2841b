"""`fixahead bench incidents`: committed error-code event to visible incident, under ingest load.

The single-process platform (`Pipeline`: ingest worker, rule engine, dispatch) runs in this
process against a fresh database and Mosquitto with the project's config. A separate
publisher process sends paced telemetry (the ingest load) and, every `event_every_s`, one
error-code event (WM-800 E90 leak or E21 drain) for a device of its own; each such device has
a customer, so dispatch does its real work (decision, booking, outbox) for every incident.

Times, all wall clock on this machine (PostgreSQL runs here, so its clock is ours):
- event committed: `events.received_at`, i.e. `now()` of ingest's batch transaction (its
  start: the measured latency includes the batch's own COPY and commit, so it errs high);
- incident visible: a poller in a process of its own reads `incident_changes` every
  `poll_s`; an incident counts as visible at the start of the first poll that returned it
  (resolution: the poll period, reported as `poll_period_ms`). One rules writer commits
  changes in id order, so polling by id misses nothing.
For where the time goes, the platform is timed at its seams (a subclass that only takes
timestamps): the ingest commit callback, the start and end of the processor's handling of
the batch, and `incident_changes.recorded_at` (the start of the incident write).
The baseline is the same measurement with no telemetry load, in the same run; a last phase
repeats the loaded one for devices without a customer (dispatch only looks the customer up),
which shows how much dispatch work (on its own thread since the pipeline change, but in the
same interpreter) still costs the rules path.

The production topology is not one interpreter: it runs `fixahead run ingest`, `run rules`
and `run dispatch` as separate processes (ingest writes `ingest_feed` in its batch
transaction and NOTIFYs; rules reads the feed; dispatch reads `incident_changes`). The
`roles` topology starts exactly those commands as subprocesses (against a fresh database of
their own, the same broker under a new topic prefix, the bench's SMTP sink) and measures the
same event -> incident latency with the same publisher and poller, unloaded and under the
same paced load. From outside the roles there are no seams to time: its breakdown is
`events.received_at` -> `incident_changes.recorded_at` -> first poll. `run(topology=)`
chooses "single", "roles" or "both" (the default; the CLI runs both).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from devices.brokerurl import parse_broker_url
from dispatch.email.sender import SmtpSettings
from fixahead.lab.bench.common import (
    bench_broker,
    bench_database,
    result,
)
from fixahead.lab.bench.incidents_measure import (
    CODES,
    device_keys,
    latencies,
    polling,
    provision,
    run_phase,
    telemetry_payload,
)
from fixahead.mail import mail
from fixahead.pipeline import Pipeline
from fixahead.services import Endpoints
from fixahead.settings import Settings
from ingest.writer import Committed

TARGET_P99_MS = 500.0
class _TimedPipeline(Pipeline):
    """The platform as it is, with timestamps taken at its seams (nothing else changes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.marks: dict[int, dict[str, float]] = {}
        self.commits: list[tuple[float, int]] = []

    def _on_commit(self, committed: Committed) -> None:
        now = time.time()
        self.commits.append((now, committed.rows))
        for e in committed.events:
            self.marks.setdefault(e[1], {})["committed"] = now
        super()._on_commit(committed)

    def _handle(self, rules: Any, conn: psycopg.Connection, c: Committed) -> None:
        start = time.time()
        super()._handle(rules, conn, c)
        end = time.time()
        for e in c.events:
            self.marks.setdefault(e[1], {}).update(handle_start=start, handle_end=end)


class _Role:
    """One `fixahead run ROLE` subprocess (as tests/integration/test_whole_loop.py starts it)."""

    def __init__(self, role: str, env: dict[str, str], log: Path) -> None:
        self.role, self.log = role, log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "fixahead.cli", "run", role],
                                         env=env, stdout=out, stderr=out)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def _role_env(settings: Settings, db: str, url: str, prefix: str, smtp: SmtpSettings
              ) -> dict[str, str]:
    """The roles' environment: this one without its FIXAHEAD_ settings, then the bench's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIXAHEAD_")}
    env.update({
        "FIXAHEAD_DATABASE_URL": db, "FIXAHEAD_MQTT_URL": url, "FIXAHEAD_TOPIC_PREFIX": prefix,
        "FIXAHEAD_INGEST_CLIENT_ID": f"bench-inc-roles-{secrets.token_hex(4)}",
        "FIXAHEAD_INGEST_FEED": "true",
        "FIXAHEAD_INGEST_BATCH_MAX_MESSAGES": str(settings.ingest_batch_max_messages),
        "FIXAHEAD_INGEST_BATCH_MAX_ROWS": str(settings.ingest_batch_max_rows),
        "FIXAHEAD_INGEST_BATCH_MAX_WAIT_MS": str(settings.ingest_batch_max_wait_ms),
        "FIXAHEAD_RULES_PARTITIONS": str(settings.rules_partitions),
        "FIXAHEAD_SMTP_HOST": smtp.host, "FIXAHEAD_SMTP_PORT": str(smtp.port),
        "FIXAHEAD_LINK_SECRET": settings.link_secret or "",
        "FIXAHEAD_DATA_DIR": str(settings.data_dir), "FIXAHEAD_LOG_LEVEL": "WARNING"})
    if smtp.username:
        env["FIXAHEAD_SMTP_USERNAME"] = smtp.username
        env["FIXAHEAD_SMTP_PASSWORD"] = smtp.password or ""
    if settings.ingest_username:
        env["FIXAHEAD_INGEST_USERNAME"] = settings.ingest_username
        env["FIXAHEAD_INGEST_PASSWORD"] = settings.ingest_password or ""
    return env


def _wait_stored(url: str, prefix: str, db: str, device: str, alive: Any,
                 timeout: float = 120.0) -> None:
    """Publish a one-sample probe every second until ingest stores one (it has subscribed)."""
    addr = parse_broker_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2,
                         client_id=f"bench-inc-probe-{secrets.token_hex(4)}")
    client.connect(addr.host, addr.port)
    client.loop_start()
    key = device_keys(db, [device])[device]
    deadline = time.time() + timeout
    try:
        for seq in range(10**6):
            alive()
            payload = telemetry_payload(seq, 1, int(time.time() * 1000))
            client.publish(f"{prefix}/{device}/telemetry", payload,
                           qos=1).wait_for_publish(10)
            time.sleep(1.0)
            with psycopg.connect(db) as conn:
                row = conn.execute("SELECT count(*) FROM telemetry WHERE device = %s",
                                   (key,)).fetchone()
            if row and row[0]:
                return
            if time.time() > deadline:
                raise RuntimeError(f"the ingest role stored nothing in {timeout:.0f} s")
    finally:
        client.disconnect()
        client.loop_stop()


def _single_process(settings: Settings, url: str, smtp: SmtpSettings, email: Any,
                    ids: dict[str, list[str]], rate: float, samples: int, event_every_s: float,
                    lead_s: float, poll_s: float) -> dict[str, Any]:
    """Baseline, loaded and loaded-without-dispatch phases through one `Pipeline`."""
    prefix = f"fxbench-inc/{secrets.token_hex(4)}/v1"
    settings = settings.model_copy(update={
        "topic_prefix": prefix, "ingest_client_id": f"bench-inc-{secrets.token_hex(4)}"})
    load_ids = ids["load"]
    with bench_database(settings) as db:
        provision(db, [d for k in ("load", "warm", "base", "loaded", "bare") for d in ids[k]],
                   ids["warm"] + ids["base"] + ids["loaded"])
        ends = Endpoints(database_url=db, mqtt_url=url, platform_mqtt_url=url)
        pipeline = _TimedPipeline(settings, ends, smtp=smtp, email=email, owner="bench")
        with polling(db, poll_s) as polled:
            pipeline.start()
            try:
                c = pipeline.commits
                run_phase(c, url, db, prefix, load_ids, ids["warm"], 0, samples, 0.5, 0.5, 0)
                base = run_phase(c, url, db, prefix, load_ids, ids["base"], 0, samples,
                              event_every_s, 0.5, 0)
                loaded = run_phase(c, url, db, prefix, load_ids, ids["loaded"], rate, samples,
                                event_every_s, lead_s, 0)
                bare = run_phase(c, url, db, prefix, load_ids, ids["bare"], rate, samples,
                              event_every_s, lead_s, 1_000_000)
            finally:
                pipeline.stop()
        seen = polled["seen"]
        return {"unloaded": latencies(base, db, seen, pipeline.marks),
                "loaded": latencies(loaded, db, seen, pipeline.marks),
                "bare": latencies(bare, db, seen, pipeline.marks),
                "loaded_phase": loaded, "counters": pipeline.counters,
                "poll_period": polled["period"]}


def _roles(settings: Settings, url: str, smtp: SmtpSettings, ids: dict[str, list[str]],
           rate: float, samples: int, event_every_s: float, lead_s: float,
           poll_s: float) -> dict[str, Any]:
    """Baseline and loaded phases through `fixahead run ingest|rules|dispatch` subprocesses."""
    prefix = f"fxbench-inc/{secrets.token_hex(4)}/v1"
    load_ids = ids["load"]
    with bench_database(settings) as db, \
            tempfile.TemporaryDirectory(prefix="fxbench-roles-") as tmp:
        provision(db, [d for k in ("load", "warm", "base", "loaded") for d in ids[k]]
                   + ["probe-0"], ids["warm"] + ids["base"] + ids["loaded"])
        env = _role_env(settings, db, url, prefix, smtp)
        log = Path(tmp) / "roles.log"
        roles: list[_Role] = []

        def alive() -> None:
            for r in roles:
                if r.proc.poll() is not None:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"role {r.role} exited ({r.proc.returncode}):\n{tail}")

        with polling(db, poll_s) as polled:
            try:
                for name in ("ingest", "rules", "dispatch"):
                    roles.append(_Role(name, env, log))
                _wait_stored(url, prefix, db, "probe-0", alive)
                run_phase(None, url, db, prefix, load_ids, ids["warm"], 0, samples, 0.5, 0.5, 0,
                       alive)
                base = run_phase(None, url, db, prefix, load_ids, ids["base"], 0, samples,
                              event_every_s, 0.5, 0, alive)
                loaded = run_phase(None, url, db, prefix, load_ids, ids["loaded"], rate, samples,
                                event_every_s, lead_s, 0, alive)
                alive()
            finally:
                for r in roles:
                    r.stop()
        seen = polled["seen"]
        with psycopg.connect(db) as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM incident_changes), "
                "(SELECT count(*) FROM dispatch_decisions)").fetchone() or (0, 0)
        return {"unloaded": latencies(base, db, seen, {}),
                "loaded": latencies(loaded, db, seen, {}), "loaded_phase": loaded,
                "incidents_changed": counts[0], "decisions": counts[1],
                "poll_period": polled["period"]}


def run(settings: Settings, *, quick: bool = False, rate: float = 2500.0, samples: int = 20,
        event_every_s: float = 0.1, poll_s: float = 0.005, topology: str = "both"
        ) -> dict[str, Any]:
    """Run the unloaded baseline, then the loaded phase(s), through the single process and/or
    the separate roles (`topology`: "single", "roles" or "both"), and return the result."""
    if topology not in ("single", "roles", "both"):
        raise ValueError(f"topology must be single, roles or both, not {topology!r}")
    n_load_devices = 1000
    n_base, n_loaded = (20, 50) if quick else (100, 600)
    rate = min(rate, 1000.0) if quick else rate
    lead_s = 1.0 if quick else 3.0
    settings = settings.model_copy(update={
        "link_secret": settings.link_secret or secrets.token_urlsafe(32)})
    ids = {"load": [f"load-{d:05d}" for d in range(n_load_devices)],
           "warm": [f"warm-{d:03d}" for d in range(3)],
           "base": [f"base-{d:05d}" for d in range(n_base)],
           "loaded": [f"err-{d:05d}" for d in range(n_loaded)],
           "bare": [f"bare-{d:05d}" for d in range(n_loaded // 2)]}  # no customer: no dispatch
    load_avg = [round(x, 2) for x in os.getloadavg()]
    single = roles = None
    with bench_broker(settings) as (url, broker_kind), \
            mail(settings) as (smtp, email, _sink):
        if topology in ("single", "both"):
            single = _single_process(settings, url, smtp, email, ids, rate, samples,
                                     event_every_s, lead_s, poll_s)
            load_avg += [round(x, 2) for x in os.getloadavg()]
        if topology in ("roles", "both"):
            roles = _roles(settings, url, smtp, ids, rate, samples, event_every_s, lead_s,
                           poll_s)
            load_avg += [round(x, 2) for x in os.getloadavg()]
    metrics: dict[str, Any] = {"target_p99_ms": TARGET_P99_MS}
    baselines: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    if single is not None:
        b, ld, nd = single["unloaded"], single["loaded"], single["bare"]
        loaded, counters = single["loaded_phase"], single["counters"]
        metrics.update({
            "p50_event_to_incident_ms": ld["p50_event_to_incident_ms"],
            "p99_event_to_incident_ms": ld["p99_event_to_incident_ms"],
            "max_event_to_incident_ms": ld["max_event_to_incident_ms"],
            "events_measured": ld["events"] - ld["missing"],
            "events_without_incident": ld["missing"],
            "ingest_readings_per_s": round(loaded["readings_per_s"]),
            "offered_readings_per_s": round(loaded["offered_readings_per_s"]),
            "target_met": ld["p99_event_to_incident_ms"] <= TARGET_P99_MS,
            "p50_commit_to_incident_ms": ld["p50_commit_to_incident_ms"],
            "p99_commit_to_incident_ms": ld["p99_commit_to_incident_ms"],
            "loaded": ld,
            "pipeline": {"batches": counters.batches,
                         "incidents_changed": counters.incidents_changed,
                         "decisions": counters.decisions, "errors": counters.errors},
        })
        baselines.update({"unloaded": b,
                          "p50_event_to_incident_ms": b["p50_event_to_incident_ms"],
                          "p99_event_to_incident_ms": b["p99_event_to_incident_ms"],
                          "events_measured": b["events"] - b["missing"],
                          "loaded_without_dispatch": nd})
        ratios.update({
            "p99_loaded_vs_unloaded": round(ld["p99_event_to_incident_ms"]
                                            / max(0.1, b["p99_event_to_incident_ms"]), 2),
            "p50_loaded_vs_unloaded": round(ld["p50_event_to_incident_ms"]
                                            / max(0.1, b["p50_event_to_incident_ms"]), 2),
            "p99_loaded_vs_loaded_without_dispatch": round(
                ld["p99_event_to_incident_ms"] / max(0.1, nd["p99_event_to_incident_ms"]), 2),
            "p99_vs_target": round(ld["p99_event_to_incident_ms"] / TARGET_P99_MS, 3),
            "ingest_achieved_vs_offered": round(loaded["readings_per_s"]
                                                / max(1.0, loaded["offered_readings_per_s"]), 3),
        })
    if roles is not None:
        rb, rl, rloaded = roles["unloaded"], roles["loaded"], roles["loaded_phase"]
        metrics["roles"] = {
            "p50_event_to_incident_ms": rl["p50_event_to_incident_ms"],
            "p99_event_to_incident_ms": rl["p99_event_to_incident_ms"],
            "max_event_to_incident_ms": rl["max_event_to_incident_ms"],
            "events_measured": rl["events"] - rl["missing"],
            "events_without_incident": rl["missing"],
            "ingest_readings_per_s": round(rloaded["readings_per_s"]),
            "offered_readings_per_s": round(rloaded["offered_readings_per_s"]),
            "target_met": rl["p99_event_to_incident_ms"] <= TARGET_P99_MS,
            "incidents_changed": roles["incidents_changed"], "decisions": roles["decisions"],
            "loaded": rl,
        }
        baselines["roles_unloaded"] = rb | {"events_measured": rb["events"] - rb["missing"]}
        ratios["roles_p99_loaded_vs_unloaded"] = round(
            rl["p99_event_to_incident_ms"] / max(0.1, rb["p99_event_to_incident_ms"]), 2)
        ratios["roles_p99_vs_target"] = round(rl["p99_event_to_incident_ms"] / TARGET_P99_MS, 3)
        ratios["roles_ingest_achieved_vs_offered"] = round(
            rloaded["readings_per_s"] / max(1.0, rloaded["offered_readings_per_s"]), 3)
        if single is not None:
            ratios["p99_roles_vs_single_process"] = round(
                rl["p99_event_to_incident_ms"]
                / max(0.1, single["loaded"]["p99_event_to_incident_ms"]), 2)
            ratios["p50_roles_vs_single_process"] = round(
                rl["p50_event_to_incident_ms"]
                / max(0.1, single["loaded"]["p50_event_to_incident_ms"]), 2)
    config = {"broker": broker_kind, "load_devices": n_load_devices, "load_msgs_per_s": rate,
              "samples_per_message": samples, "event_every_s": event_every_s,
              "codes": list(CODES), "model": "WM-800", "quick": quick, "topology": topology,
              "events_unloaded": n_base, "events_loaded": n_loaded,
              "events_loaded_without_dispatch": len(ids["bare"]) if single else 0,
              "load_average_1_5_15_min_before_after": load_avg,
              "poll_s": poll_s,
              "poll_period_ms": round((single or roles or {})["poll_period"] * 1000, 2),
              "batch_max_messages": settings.ingest_batch_max_messages,
              "batch_max_wait_ms": settings.ingest_batch_max_wait_ms,
              "rules_partitions": settings.rules_partitions,
              "method": "events.received_at (ingest transaction start) to the first poll of "
                        "incident_changes that shows the incident (separate process, every "
                        "poll_s); single process: breakdown from timestamps at the pipeline's "
                        "seams; roles (`fixahead run ingest|rules|dispatch` subprocesses, "
                        "fresh database, ingest feed on): no seams, breakdown via "
                        "incident_changes.recorded_at; readings/s there are those with a "
                        "sample time in the event window stored when the publisher finished"}
    if roles is not None:
        config["roles_poll_period_ms"] = round(roles["poll_period"] * 1000, 2)
    return result("incidents", metrics, baselines, ratios, config)
