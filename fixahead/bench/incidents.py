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
"""

from __future__ import annotations

import multiprocessing as mp
import os
import secrets
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from devices import protocol
from devices.protocol import Event, Events, Telemetry
from devices.store import register_device
from fixahead.bench.common import bench_broker, bench_database, percentile, result
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
WINDOW = 30_000  # unacked QoS 1 publishes at most (packet ids are 16 bits)

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
    addr = parse_mqtt_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-inc-{secrets.token_hex(4)}")
    client.max_inflight_messages_set(0)
    client.max_queued_messages_set(0)
    acked = [0]
    window = threading.Condition()

    def on_publish(c: mqtt.Client, u: object, mid: int, rc: object, p: object) -> None:
        with window:
            acked[0] += 1
            window.notify()

    client.on_publish = on_publish
    client.connect(addr.host, addr.port)
    client.loop_start()
    pipe.send("ready")
    seq0 = pipe.recv()
    start = time.time()
    first_event = start + lead_s
    end = first_event + len(error_ids) * every_s + lead_s
    sent: list[tuple[str, float]] = []
    n = e = 0
    info = None
    while True:
        now = time.time()
        event_due = first_event + e * every_s if e < len(error_ids) else float("inf")
        load_due = start + n / rate if rate > 0 else float("inf")
        if now >= event_due:
            ms = int(now * 1000)
            payload = protocol.encode_events_json(
                Events(1, [Event(ms, "error", code=CODES[e % len(CODES)])]))
            info = client.publish(f"{prefix}/{error_ids[e]}/events", payload, qos=1)
            sent.append((error_ids[e], now))
            e += 1
        elif now >= end:
            break
        elif now >= load_due:
            device = load_ids[n % len(load_ids)]
            info = client.publish(f"{prefix}/{device}/telemetry",
                                  _telemetry(seq0 + n // len(load_ids), samples, int(now * 1000)),
                                  qos=1)
            n += 1
            if n - acked[0] >= WINDOW:
                with window:
                    window.wait_for(lambda k=n: k - acked[0] < WINDOW, timeout=60)
        else:
            time.sleep(max(0.0, min(event_due, load_due, end) - now))
    if info is not None:
        info.wait_for_publish(120)
    pipe.send((start, time.time(), n, sent))
    client.disconnect()
    client.loop_stop()


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


def _phase(pipeline: _TimedPipeline, url: str, db: str, prefix: str, load_ids: list[str],
           error_ids: list[str], rate: float, samples: int, every_s: float, lead_s: float,
           seq0: int) -> dict[str, Any]:
    """Publish one phase and wait for every event's incident (or 60 s after the last)."""
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
    keys = _keys(db, error_ids)
    deadline = time.time() + 60
    with psycopg.connect(db, autocommit=True) as conn:
        while time.time() < deadline:
            got = conn.execute("SELECT count(DISTINCT device) FROM incidents "
                               "WHERE fault = ANY(%s) AND device = ANY(%s)",
                               (list(CODES), list(keys.values()))).fetchone()
            if got and got[0] >= len(error_ids):
                break
            time.sleep(0.2)
    events = [(keys[d], at) for d, at in sent]
    window = (events[0][1], events[-1][1]) if events else (start, end)
    during = [r for t, r in list(pipeline.commits) if window[0] <= t <= window[1]]
    return {"events": events, "load_messages": sent_load, "commits": len(during),
            "rows_per_commit": sum(during) / max(1, len(during)),
            "readings_per_s": sum(during) / max(1e-9, window[1] - window[0]),
            "offered_readings_per_s": rate * samples}


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
        "publish_to_event_commit", "ingest_write",
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
        if {"committed", "handle_start", "handle_end"} <= m.keys():
            parts["commit_to_incident"].append(visible - m["committed"])
            parts["ingest_write"].append(m["committed"] - committed)
            parts["queue_wait"].append(m["handle_start"] - m["committed"])
            parts["rules"].append(recorded - m["handle_start"])
            parts["incident_write_and_poll"].append(visible - recorded)
            parts["handle_total"].append(m["handle_end"] - m["handle_start"])
    out: dict[str, Any] = {"events": len(phase["events"]), "missing": missing}
    for name, values in parts.items():
        out[f"p50_{name}_ms"] = round(percentile(values, 50) * 1000, 1)
        out[f"p99_{name}_ms"] = round(percentile(values, 99) * 1000, 1)
    lat = parts["event_to_incident"]
    out["max_event_to_incident_ms"] = round(max(lat, default=0) * 1000, 1)
    # a backlog that grows shows as a later third slower than the first
    third = len(lat) // 3
    out["p50_first_third_ms"] = round(percentile(lat[:third], 50) * 1000, 1)
    out["p50_last_third_ms"] = round(percentile(lat[-third:] if third else [], 50) * 1000, 1)
    out["ingest_commits"] = phase["commits"]
    out["ingest_rows_per_commit"] = round(phase["rows_per_commit"])
    out["ingest_readings_per_s"] = round(phase["readings_per_s"])
    return out


def run(settings: Settings, *, quick: bool = False, rate: float = 2500.0, samples: int = 20,
        event_every_s: float = 0.1, poll_s: float = 0.005) -> dict[str, Any]:
    """Run the unloaded baseline, then the loaded phase, and return the result document."""
    n_load_devices = 1000
    n_base, n_loaded = (20, 50) if quick else (100, 600)
    rate = min(rate, 1000.0) if quick else rate
    lead_s = 1.0 if quick else 3.0
    prefix = f"fxbench-inc/{secrets.token_hex(4)}/v1"
    settings = settings.model_copy(update={
        "topic_prefix": prefix, "ingest_client_id": f"bench-inc-{secrets.token_hex(4)}",
        "link_secret": settings.link_secret or secrets.token_urlsafe(32)})
    load_ids = [f"load-{d:05d}" for d in range(n_load_devices)]
    warm_ids = [f"warm-{d:03d}" for d in range(3)]
    base_ids = [f"base-{d:05d}" for d in range(n_base)]
    loaded_ids = [f"err-{d:05d}" for d in range(n_loaded)]
    bare_ids = [f"bare-{d:05d}" for d in range(n_loaded // 2)]  # no customer: no dispatch work
    load_avg = [round(x, 2) for x in os.getloadavg()]
    with bench_database(settings) as db, bench_broker(settings) as (url, broker_kind), \
            mail(settings) as (smtp, email, _sink):
        with psycopg.connect(db, autocommit=True) as conn:
            for d in load_ids + warm_ids + base_ids + loaded_ids + bare_ids:
                register_device(conn, d, "WM-800")
            # a customer per error device: dispatch decides, books and writes the outbox
            provision_world(conn, {d: [d] for d in warm_ids + base_ids + loaded_ids}, seed=1)
        ends = Endpoints(database_url=db, mqtt_url=url, platform_mqtt_url=url)
        pipeline = _TimedPipeline(settings, ends, smtp=smtp, email=email, owner="bench")
        ctx = mp.get_context("spawn")
        poll_pipe, child = ctx.Pipe()
        poller = ctx.Process(target=_poller, args=(db, poll_s, child))
        poller.start()
        if poll_pipe.recv() != "ready":
            raise RuntimeError("poller failed to start")
        pipeline.start()
        try:
            _phase(pipeline, url, db, prefix, load_ids, warm_ids, 0, samples, 0.5, 0.5, 0)
            base = _phase(pipeline, url, db, prefix, load_ids, base_ids, 0, samples,
                          event_every_s, 0.5, 0)
            loaded = _phase(pipeline, url, db, prefix, load_ids, loaded_ids, rate, samples,
                            event_every_s, lead_s, 0)
            bare = _phase(pipeline, url, db, prefix, load_ids, bare_ids, rate, samples,
                          event_every_s, lead_s, 1_000_000)
        finally:
            poll_pipe.send("stop")
            seen, poll_period = poll_pipe.recv()
            poller.join(30)
            pipeline.stop()
        counters = pipeline.counters
        b = _latencies(base, db, seen, pipeline.marks)
        ld = _latencies(loaded, db, seen, pipeline.marks)
        nd = _latencies(bare, db, seen, pipeline.marks)
    load_avg += [round(x, 2) for x in os.getloadavg()]
    metrics = {
        "p50_event_to_incident_ms": ld["p50_event_to_incident_ms"],
        "p99_event_to_incident_ms": ld["p99_event_to_incident_ms"],
        "max_event_to_incident_ms": ld["max_event_to_incident_ms"],
        "events_measured": ld["events"] - ld["missing"],
        "events_without_incident": ld["missing"],
        "ingest_readings_per_s": round(loaded["readings_per_s"]),
        "offered_readings_per_s": round(loaded["offered_readings_per_s"]),
        "target_p99_ms": TARGET_P99_MS,
        "target_met": ld["p99_event_to_incident_ms"] <= TARGET_P99_MS,
        "p50_commit_to_incident_ms": ld["p50_commit_to_incident_ms"],
        "p99_commit_to_incident_ms": ld["p99_commit_to_incident_ms"],
        "loaded": ld,
        "pipeline": {"batches": counters.batches, "incidents_changed": counters.incidents_changed,
                     "decisions": counters.decisions, "errors": counters.errors},
    }
    baselines = {"unloaded": b,
                 "p50_event_to_incident_ms": b["p50_event_to_incident_ms"],
                 "p99_event_to_incident_ms": b["p99_event_to_incident_ms"],
                 "events_measured": b["events"] - b["missing"],
                 "loaded_without_dispatch": nd}
    ratios = {
        "p99_loaded_vs_unloaded": round(ld["p99_event_to_incident_ms"]
                                        / max(0.1, b["p99_event_to_incident_ms"]), 2),
        "p50_loaded_vs_unloaded": round(ld["p50_event_to_incident_ms"]
                                        / max(0.1, b["p50_event_to_incident_ms"]), 2),
        "p99_loaded_vs_loaded_without_dispatch": round(
            ld["p99_event_to_incident_ms"] / max(0.1, nd["p99_event_to_incident_ms"]), 2),
        "p99_vs_target": round(ld["p99_event_to_incident_ms"] / TARGET_P99_MS, 3),
        "ingest_achieved_vs_offered": round(loaded["readings_per_s"]
                                            / max(1.0, loaded["offered_readings_per_s"]), 3),
    }
    config = {"broker": broker_kind, "load_devices": n_load_devices, "load_msgs_per_s": rate,
              "samples_per_message": samples, "event_every_s": event_every_s,
              "codes": list(CODES), "model": "WM-800", "quick": quick,
              "events_unloaded": n_base, "events_loaded": n_loaded,
              "events_loaded_without_dispatch": len(bare_ids),
              "load_average_1_5_15_min_before_after": load_avg,
              "poll_s": poll_s, "poll_period_ms": round(poll_period * 1000, 2),
              "batch_max_messages": settings.ingest_batch_max_messages,
              "batch_max_wait_ms": settings.ingest_batch_max_wait_ms,
              "method": "events.received_at (ingest transaction start) to the first poll of "
                        "incident_changes that shows the incident (separate process, every "
                        "poll_s); breakdown from timestamps at the pipeline's seams"}
    return result("incidents", metrics, baselines, ratios, config)
