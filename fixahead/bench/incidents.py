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

import contextlib
import multiprocessing as mp
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from devices import protocol
from devices.protocol import Event, Events, Telemetry
from devices.store import register_device
from dispatch.email.sender import SmtpSettings
from fixahead.bench.common import (
    WindowedPublisher,
    bench_broker,
    bench_database,
    percentile,
    result,
)
from fixahead.demo import provision_world
from fixahead.pipeline import Pipeline
from fixahead.scenario import mail
from fixahead.services import Endpoints
from fixahead.settings import Settings
from ingest.mqtturl import parse_mqtt_url
from ingest.writer import Committed

TARGET_P99_MS = 500.0
CODES = ("E90", "E21")
TYPICAL = (3.0, 8.0, 80.0, 0.5)  # WM-800 motor_current, water_inflow, drain_time, vibration

CHANGES = """SELECT c.id, i.device, i.fault, extract(epoch FROM c.recorded_at)::float8
             FROM incident_changes c JOIN incidents i USING (key)
             WHERE c.id > %s ORDER BY c.id"""


def _telemetry(seq: int, samples: int, now_ms: int) -> bytes:
    ts = [now_ms - (samples - 1 - k) * 20 for k in range(samples)]
    metrics = [1 + k % 4 for k in range(samples)]
    values = [TYPICAL[m - 1] * (1 + 0.01 * ((seq + k) % 7 - 3)) for k, m in enumerate(metrics)]
    return protocol.encode_telemetry_binary(Telemetry(seq, ts, metrics, values))


def _publisher(url: str, prefix: str, load_ids: list[str], error_ids: list[str], rate: float,
               samples: int, every_s: float, lead_s: float, pipe: Any) -> None:
    """Child process: paced telemetry to `load_ids` and one error event per `error_ids`
    every `every_s`, starting `lead_s` after the telemetry; reports what it sent."""
    pub = WindowedPublisher(url, f"bench-inc-{secrets.token_hex(4)}")
    pipe.send("ready")
    seq0 = pipe.recv()
    start = time.time()
    first_event = start + lead_s
    end = first_event + len(error_ids) * every_s + lead_s
    sent: list[tuple[str, float]] = []
    n = e = 0
    while True:
        now = time.time()
        event_due = first_event + e * every_s if e < len(error_ids) else float("inf")
        load_due = start + n / rate if rate > 0 else float("inf")
        if now >= event_due:
            ms = int(now * 1000)
            payload = protocol.encode_events_json(
                Events(1, [Event(ms, "error", code=CODES[e % len(CODES)])]))
            pub.publish(f"{prefix}/{error_ids[e]}/events", payload)
            sent.append((error_ids[e], now))
            e += 1
        elif now >= end:
            break
        elif now >= load_due:
            device = load_ids[n % len(load_ids)]
            pub.publish(f"{prefix}/{device}/telemetry",
                        _telemetry(seq0 + n // len(load_ids), samples, int(now * 1000)))
            n += 1
        else:
            time.sleep(max(0.0, min(event_due, load_due, end) - now))
    pub.close()
    pipe.send((start, time.time(), n, sent))


def _poller(db: str, poll_s: float, pipe: Any) -> None:
    """Child process: poll incident changes until told to stop; report first sight of each
    (device, fault) as (seen, recorded_at) and the mean period between polls."""
    seen: dict[tuple[int, str], tuple[float, float]] = {}
    last, polls = 0, 0
    with psycopg.connect(db, autocommit=True) as conn:
        pipe.send("ready")
        began = time.time()
        while True:
            stop = pipe.poll()
            t = time.time()
            for cid, device, fault, recorded in conn.execute(CHANGES, (last,)).fetchall():
                last = max(last, cid)
                seen.setdefault((device, fault), (t, recorded))
            polls += 1
            if stop:
                break
            time.sleep(poll_s)
    pipe.send((seen, (time.time() - began) / max(1, polls)))


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


def _phase(commits: list[tuple[float, int]] | None, url: str, db: str, prefix: str,
           load_ids: list[str], error_ids: list[str], rate: float, samples: int, every_s: float,
           lead_s: float, seq0: int, alive: Any = None) -> dict[str, Any]:
    """Publish one phase and wait for every event's incident (or 60 s after the last).

    Readings stored while the events were sent: from ingest's commit callbacks (`commits`)
    in the single process; for separate roles, the stored readings whose sample time falls
    in that window, counted as soon as the publisher is done (so a backlog shows)."""
    ctx = mp.get_context("spawn")
    pipe, child = ctx.Pipe()
    proc = ctx.Process(target=_publisher, args=(url, prefix, load_ids, error_ids, rate, samples,
                                                every_s, lead_s, child))
    proc.start()
    if pipe.recv() != "ready":
        raise RuntimeError("publisher failed to start")
    pipe.send(seq0)
    start, end, sent_load, sent = pipe.recv()
    proc.join(30)
    window = (sent[0][1], sent[-1][1]) if sent else (start, end)
    if commits is not None:
        during = [r for t, r in list(commits) if window[0] <= t <= window[1]]
        n_commits, rows = len(during), sum(during)
    else:
        n_commits, rows = 0, _readings_between(db, *window)
    keys = _keys(db, error_ids)
    deadline = time.time() + 60
    with psycopg.connect(db, autocommit=True) as conn:
        while time.time() < deadline:
            if alive is not None:
                alive()
            got = conn.execute("SELECT count(DISTINCT device) FROM incidents "
                               "WHERE fault = ANY(%s) AND device = ANY(%s)",
                               (list(CODES), list(keys.values()))).fetchone()
            if got and got[0] >= len(error_ids):
                break
            time.sleep(0.2)
    events = [(keys[d], at) for d, at in sent]
    return {"events": events, "load_messages": sent_load, "commits": n_commits,
            "rows_per_commit": rows / max(1, n_commits) if commits is not None else None,
            "readings_per_s": rows / max(1e-9, window[1] - window[0]),
            "offered_readings_per_s": rate * samples}


def _readings_between(db: str, t0: float, t1: float) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM telemetry WHERE time BETWEEN to_timestamp(%s) "
                           "AND to_timestamp(%s)", (t0, t1)).fetchone()
    return int(row[0]) if row else 0


def _keys(db: str, device_ids: list[str]) -> dict[str, int]:
    with psycopg.connect(db) as conn:
        return dict(conn.execute("SELECT device_id, id FROM devices WHERE device_id = ANY(%s)",
                                 (device_ids,)).fetchall())


def _latencies(phase: dict[str, Any], db: str, seen: dict[tuple[int, str], tuple[float, float]],
               marks: dict[int, dict[str, float]]) -> dict[str, Any]:
    """Per-event latencies of one phase, summarised (ms)."""
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT device, code, extract(epoch FROM received_at)::float8 "
                            "FROM events WHERE kind = 'error' AND device = ANY(%s)",
                            ([k for k, _ in phase["events"]],)).fetchall()
    received = {d: (code, at) for d, code, at in rows}
    parts: dict[str, list[float]] = {k: [] for k in (
        "event_to_incident", "commit_to_incident", "publish_to_incident",
        "publish_to_event_commit", "event_to_incident_write", "ingest_write",
        "queue_wait", "rules", "incident_write_and_poll", "handle_total")}
    missing = 0
    for device, published in phase["events"]:
        code, committed = received.get(device, (None, None))
        sight = seen.get((device, code)) if code is not None else None
        if committed is None or sight is None:
            missing += 1
            continue
        visible, recorded = sight
        m = marks.get(device, {})
        parts["event_to_incident"].append(visible - committed)
        parts["publish_to_incident"].append(visible - published)
        parts["publish_to_event_commit"].append(committed - published)
        parts["event_to_incident_write"].append(recorded - committed)
        if {"committed", "handle_start", "handle_end"} <= m.keys():
            parts["commit_to_incident"].append(visible - m["committed"])
            parts["ingest_write"].append(m["committed"] - committed)
            parts["queue_wait"].append(m["handle_start"] - m["committed"])
            parts["rules"].append(recorded - m["handle_start"])
            parts["incident_write_and_poll"].append(visible - recorded)
            parts["handle_total"].append(m["handle_end"] - m["handle_start"])
    out: dict[str, Any] = {"events": len(phase["events"]), "missing": missing}
    for name, values in parts.items():
        if not values and name != "event_to_incident":
            continue  # not measurable in this topology (no seams to time in other processes)
        out[f"p50_{name}_ms"] = round(percentile(values, 50) * 1000, 1)
        out[f"p99_{name}_ms"] = round(percentile(values, 99) * 1000, 1)
    lat = parts["event_to_incident"]
    out["max_event_to_incident_ms"] = round(max(lat, default=0) * 1000, 1)
    # a backlog that grows shows as a later third slower than the first
    third = len(lat) // 3
    out["p50_first_third_ms"] = round(percentile(lat[:third], 50) * 1000, 1)
    out["p50_last_third_ms"] = round(percentile(lat[-third:] if third else [], 50) * 1000, 1)
    if phase["rows_per_commit"] is not None:
        out["ingest_commits"] = phase["commits"]
        out["ingest_rows_per_commit"] = round(phase["rows_per_commit"])
    out["ingest_readings_per_s"] = round(phase["readings_per_s"])
    return out


@contextlib.contextmanager
def _polling(db: str, poll_s: float) -> Iterator[dict[str, Any]]:
    """The poller process for the block; afterwards `out` holds its "seen" and "period"."""
    ctx = mp.get_context("spawn")
    pipe, child = ctx.Pipe()
    poller = ctx.Process(target=_poller, args=(db, poll_s, child))
    poller.start()
    if pipe.recv() != "ready":
        raise RuntimeError("poller failed to start")
    out: dict[str, Any] = {}
    try:
        yield out
    finally:
        pipe.send("stop")
        out["seen"], out["period"] = pipe.recv()
        poller.join(30)


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
    addr = parse_mqtt_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2,
                         client_id=f"bench-inc-probe-{secrets.token_hex(4)}")
    client.connect(addr.host, addr.port)
    client.loop_start()
    key = _keys(db, [device])[device]
    deadline = time.time() + timeout
    try:
        for seq in range(10**6):
            alive()
            client.publish(f"{prefix}/{device}/telemetry",
                           _telemetry(seq, 1, int(time.time() * 1000)), qos=1).wait_for_publish(10)
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


def _provision(db: str, ids: list[str], customers: list[str]) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        for d in ids:
            register_device(conn, d, "WM-800")
        # a customer per error device: dispatch decides, books and writes the outbox
        provision_world(conn, {d: [d] for d in customers}, seed=1)


def _single_process(settings: Settings, url: str, smtp: SmtpSettings, email: Any,
                    ids: dict[str, list[str]], rate: float, samples: int, event_every_s: float,
                    lead_s: float, poll_s: float) -> dict[str, Any]:
    """Baseline, loaded and loaded-without-dispatch phases through one `Pipeline`."""
    prefix = f"fxbench-inc/{secrets.token_hex(4)}/v1"
    settings = settings.model_copy(update={
        "topic_prefix": prefix, "ingest_client_id": f"bench-inc-{secrets.token_hex(4)}"})
    load_ids = ids["load"]
    with bench_database(settings) as db:
        _provision(db, [d for k in ("load", "warm", "base", "loaded", "bare") for d in ids[k]],
                   ids["warm"] + ids["base"] + ids["loaded"])
        ends = Endpoints(database_url=db, mqtt_url=url, platform_mqtt_url=url)
        pipeline = _TimedPipeline(settings, ends, smtp=smtp, email=email, owner="bench")
        with _polling(db, poll_s) as polled:
            pipeline.start()
            try:
                c = pipeline.commits
                _phase(c, url, db, prefix, load_ids, ids["warm"], 0, samples, 0.5, 0.5, 0)
                base = _phase(c, url, db, prefix, load_ids, ids["base"], 0, samples,
                              event_every_s, 0.5, 0)
                loaded = _phase(c, url, db, prefix, load_ids, ids["loaded"], rate, samples,
                                event_every_s, lead_s, 0)
                bare = _phase(c, url, db, prefix, load_ids, ids["bare"], rate, samples,
                              event_every_s, lead_s, 1_000_000)
            finally:
                pipeline.stop()
        seen = polled["seen"]
        return {"unloaded": _latencies(base, db, seen, pipeline.marks),
                "loaded": _latencies(loaded, db, seen, pipeline.marks),
                "bare": _latencies(bare, db, seen, pipeline.marks),
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
        _provision(db, [d for k in ("load", "warm", "base", "loaded") for d in ids[k]]
                   + ["probe-0"], ids["warm"] + ids["base"] + ids["loaded"])
        env = _role_env(settings, db, url, prefix, smtp)
        log = Path(tmp) / "roles.log"
        roles: list[_Role] = []

        def alive() -> None:
            for r in roles:
                if r.proc.poll() is not None:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"role {r.role} exited ({r.proc.returncode}):\n{tail}")

        with _polling(db, poll_s) as polled:
            try:
                for name in ("ingest", "rules", "dispatch"):
                    roles.append(_Role(name, env, log))
                _wait_stored(url, prefix, db, "probe-0", alive)
                _phase(None, url, db, prefix, load_ids, ids["warm"], 0, samples, 0.5, 0.5, 0,
                       alive)
                base = _phase(None, url, db, prefix, load_ids, ids["base"], 0, samples,
                              event_every_s, 0.5, 0, alive)
                loaded = _phase(None, url, db, prefix, load_ids, ids["loaded"], rate, samples,
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
        return {"unloaded": _latencies(base, db, seen, {}),
                "loaded": _latencies(loaded, db, seen, {}), "loaded_phase": loaded,
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
