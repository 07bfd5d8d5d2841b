"""`fixahead bench ingest`: end-to-end ingest through the real broker into PostgreSQL.

A separate publisher process sends QoS 1 messages; ingest worker processes (each one
`IngestWorker`, all on one `$share` subscription, as `fixahead run ingest` started that many
times) store them. `FIXAHEAD_BENCH_INGEST_PROCESSES` ("1,2" by default) says which worker
counts the 20-sample phase measures; the headline and the other phases use the fastest, and
the one-process figures stay in `metrics.single_process`. Baselines in the same run, one
process each: a paho subscriber that only counts (the receive ceiling) and a bridge doing one
INSERT per message (the naive way).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import queue
import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from devices import protocol
from devices.brokerurl import parse_broker_url
from devices.protocol import Telemetry
from devices.store import register_device
from fixahead.lab.bench.common import (
    WindowedPublisher,
    bench_broker,
    bench_database,
    percentile,
    result,
)
from fixahead.settings import Settings
from fixahead.storage import storage_name
from fixahead.wiring import ingest_config
from ingest.worker import IngestConfig, IngestWorker
from ingest.writer import Committed

NAMES = ["motor_current", "water_inflow", "drain_time", "vibration"]


def _encode(device_id: str, seq: int, samples: int, ts: int, binary: bool, prefix: str
            ) -> tuple[str, bytes]:
    metrics = [1 + k % 4 for k in range(samples)]
    values = [float(seq % 997) + k * 0.5 for k in range(samples)]
    tss = [ts] * samples
    if binary:
        payload = protocol.encode_telemetry_binary(Telemetry(seq, tss, metrics, values))
    else:
        payload = protocol.encode_telemetry_json(
            Telemetry(seq, tss, [NAMES[m - 1] for m in metrics], values))
    return f"{prefix}/{device_id}/telemetry", payload


def _publisher(url: str, prefix: str, devices: int, messages: int, samples: int,
               rate: float | None, seq0: int, pipe: Any) -> None:
    """Child process: pre-encode (unless paced), then publish and report timings."""
    pub = WindowedPublisher(url, f"bench-pub-{seq0}")
    ids = [f"bench-{d:05d}" for d in range(devices)]
    now = int(time.time() * 1000) - 60_000
    encoded = [] if rate else [
        _encode(ids[i % devices], seq0 + i // devices, samples, now, (i % 2 == 0), prefix)
        for i in range(messages)]
    pipe.send("ready")
    pipe.recv()
    start = time.time()
    for i in range(messages):
        if rate:
            due = start + i / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            topic, payload = _encode(ids[i % devices], seq0 + i // devices, samples,
                                     int(time.time() * 1000), (i % 2 == 0), prefix)
        else:
            topic, payload = encoded[i]
        pub.publish(topic, payload)
    pub.close()
    pipe.send(("done", start, time.time()))


class _Run:
    """Start the publisher process and wait for it to be ready."""

    def __init__(self, url: str, prefix: str, devices: int, messages: int, samples: int,
                 rate: float | None, seq0: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=_publisher, args=(url, prefix, devices, messages,
                                                         samples, rate, seq0, child))
        self.proc.start()
        if self.pipe.recv() != "ready":
            raise RuntimeError("publisher failed to start")

    def go(self) -> None:
        self.pipe.send("go")

    def finish(self) -> tuple[float, float]:
        _, start, end = self.pipe.recv()
        self.proc.join(30)
        return start, end


def _ceiling(url: str, prefix: str, devices: int, messages: int, samples: int) -> float:
    addr = parse_broker_url(url)
    got = [0, 0.0]
    done = threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-ceiling")

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        got[0] += 1
        if got[0] == messages:
            got[1] = time.time()
            done.set()

    subscribed = threading.Event()
    sub.on_message = on_message
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.connect(addr.host, addr.port)
    sub.loop_start()
    sub.subscribe(f"{prefix}/+/telemetry", qos=1)
    subscribed.wait(10)
    run = _Run(url, prefix, devices, messages, samples, None, 0)
    run.go()
    start, _ = run.finish()
    done.wait(120)
    sub.disconnect()
    sub.loop_stop()
    return messages / (got[1] - start)


def _naive(url: str, db: str, prefix: str, devices: int, messages: int, samples: int,
           seq0: int) -> float:
    """One INSERT per message, as a simple MQTT-to-SQL bridge would do."""
    addr = parse_broker_url(url)
    conn = psycopg.connect(db, autocommit=True)
    keys = dict(conn.execute("SELECT device_id, id FROM devices").fetchall())
    ids = {n: i + 1 for i, n in enumerate(NAMES)}
    got = [0, 0.0]
    done = threading.Event()

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        msg = protocol.decode_telemetry(m.payload, 1000)
        device = keys[m.topic.split("/")[-2]]
        rows = [(t / 1000, device, mid if isinstance(mid, int) else ids[mid], v)
                for t, mid, v in zip(msg.ts_ms, msg.metrics, msg.values, strict=True)]
        conn.execute("INSERT INTO telemetry (time, device, metric, value) VALUES "
                     + ",".join(["(to_timestamp(%s), %s, %s, %s)"] * len(rows)),
                     [x for r in rows for x in r])
        got[0] += 1
        if got[0] == messages:
            got[1] = time.time()
            done.set()

    subscribed = threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-naive")
    sub.on_message = on_message
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.connect(addr.host, addr.port)
    sub.loop_start()
    sub.subscribe(f"{prefix}/+/telemetry", qos=1)
    subscribed.wait(10)
    run = _Run(url, prefix, devices, messages, samples, None, seq0)
    run.go()
    start, _ = run.finish()
    done.wait(300)
    sub.disconnect()
    sub.loop_stop()
    conn.close()
    return messages / (got[1] - start)


def _worker_process(config: IngestConfig, samples: int, stop: Any, out: Any) -> None:
    """Child process: one IngestWorker (its own client id, the shared group) until `stop`."""
    logging.getLogger("ingest").setLevel(logging.ERROR)

    def on_commit(c: Committed) -> None:
        now = time.time()
        out.put((now, c.rows, now * 1000 - c.ts_ms[::samples]))

    worker = IngestWorker(config, on_commit=on_commit)
    halt = threading.Event()
    thread = threading.Thread(target=worker.run, args=(halt,), daemon=True)
    thread.start()
    ready = worker.ready.wait(30)
    cpu0 = time.process_time()
    out.put("ready" if ready else "not subscribed")
    stop.wait()
    halt.set()
    thread.join(30)
    out.put(("cpu", time.process_time() - cpu0))


def _ingest(settings: Settings, url: str, db: str, prefix: str, devices: int, messages: int,
            samples: int, rate: float | None, seq0: int, processes: int = 1) -> dict[str, float]:
    """Store one publisher run with `processes` worker processes on one shared subscription."""
    # A phase of its own: the topic prefix differs per phase, because the sessions of earlier
    # phases' workers persist and would keep taking their share of a shared subscription.
    prefix = f"{prefix}/{seq0}"
    config = ingest_config(settings.model_copy(update={"topic_prefix": prefix}), db, url)
    ctx = mp.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker_process, daemon=True, args=(
        replace(config, client_id=f"bench-ingest-{seq0}-{k}"), samples, stop, out))
        for k in range(processes)]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            answer = out.get(timeout=60)
            if answer != "ready":
                raise RuntimeError(f"ingest worker process: {answer}")
        run = _Run(url, prefix, devices, messages, samples, rate, seq0)
        run.go()
        start, _ = run.finish()
        latencies: list[np.ndarray] = []
        rows, last = 0, 0.0
        deadline = time.time() + 300
        while rows < messages * samples and time.time() < deadline:
            try:
                at, n, lat = out.get(timeout=1)
            except queue.Empty:
                continue
            rows += n
            last = max(last, at)
            latencies.append(lat)
    finally:
        stop.set()
        cpu, reported = 0.0, 0
        with contextlib.suppress(queue.Empty):
            while reported < len(procs):
                item = out.get(timeout=60)
                if isinstance(item, tuple) and item[0] == "cpu":
                    cpu += item[1]
                    reported += 1
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.terminate()
    if rows != messages * samples:
        raise RuntimeError(f"ingest stored {rows} of {messages * samples} rows")
    lat_list = np.concatenate(latencies).tolist() if latencies else []
    elapsed = last - start
    return {"messages_per_s": messages / elapsed, "readings_per_s": messages * samples / elapsed,
            "p50_ms": percentile(lat_list, 50), "p99_ms": percentile(lat_list, 99),
            # CPU of the worker processes from subscribed to stopped, per message: a figure a
            # busy machine disturbs far less than throughput
            "worker_cpu_us_per_message": 1e6 * cpu / messages if reported == len(procs)
            else float("nan")}


def process_counts(spec: str) -> list[int]:
    """Parse `FIXAHEAD_BENCH_INGEST_PROCESSES` ("1,2"): distinct positive counts, 1 first."""
    try:
        counts = sorted({int(x) for x in spec.split(",") if x.strip()} | {1})
    except ValueError:
        raise ValueError(f"bench_ingest_processes {spec!r}: comma-separated integers") from None
    if counts[0] < 1:
        raise ValueError(f"bench_ingest_processes {spec!r}: counts must be at least 1")
    return counts


def run(settings: Settings, *, quick: bool = False) -> dict[str, Any]:
    """Run every phase and return the standard result document."""
    devices = 1000
    n20 = 15_000 if quick else 60_000
    n1 = 20_000 if quick else 80_000
    n_naive = 1_000 if quick else 3_000
    counts = process_counts(settings.bench_ingest_processes)
    with bench_database(settings) as db, bench_broker(settings) as (url, broker_kind):
        with psycopg.connect(db, autocommit=True) as conn:
            storage = storage_name(conn)
            for d in range(devices):
                register_device(conn, f"bench-{d:05d}", "WM-800")
        prefix = "fxbench/v1"
        ceiling = _ceiling(url, prefix + "/ceiling", devices, n20, 20)
        # each phase its own sequence numbers (seq0 + message // devices), or the dedupe
        # ledger would drop a later phase's messages as redeliveries
        by_count = {n: _ingest(settings, url, db, prefix, devices, n20, 20, None,
                               100_000 + 1_000 * n, n) for n in counts}
        best = max(counts, key=lambda n: by_count[n]["messages_per_s"])
        fast20 = by_count[best]
        fast1 = _ingest(settings, url, db, prefix, devices, n1, 1, None, 10_000, best)
        paced_rate20 = round(0.5 * fast20["messages_per_s"])
        paced_rate1 = round(0.5 * fast1["messages_per_s"])
        paced20 = _ingest(settings, url, db, prefix, devices, min(n20, paced_rate20 * 5), 20,
                          paced_rate20, 20_000, best)
        paced1 = _ingest(settings, url, db, prefix, devices, min(n1, paced_rate1 * 5), 1,
                         paced_rate1, 30_000, best)
        naive = _naive(url, db, prefix + "/naive", devices, n_naive, 20, 40_000)
    single = by_count[1]
    metrics = {
        "readings_per_s": round(fast20["readings_per_s"]),
        "messages_per_s": round(fast20["messages_per_s"]),
        "p50_ms": round(paced20["p50_ms"], 1),
        "p99_ms": round(paced20["p99_ms"], 1),
        "single_sample": {
            "readings_per_s": round(fast1["readings_per_s"]),
            "messages_per_s": round(fast1["messages_per_s"]),
            "p50_ms": round(paced1["p50_ms"], 1),
            "p99_ms": round(paced1["p99_ms"], 1),
        },
        "backlog_p99_ms_at_full_speed": round(fast20["p99_ms"], 1),
        "single_process": {
            "readings_per_s": round(single["readings_per_s"]),
            "messages_per_s": round(single["messages_per_s"]),
            "vs_ceiling": round(single["messages_per_s"] / ceiling, 3),
            "vs_naive": round(single["messages_per_s"] / naive, 1),
        },
        "readings_per_s_by_processes": {
            str(n): round(by_count[n]["readings_per_s"]) for n in counts},
        "worker_cpu_us_per_message_by_processes": {
            str(n): round(by_count[n]["worker_cpu_us_per_message"], 1) for n in counts},
    }
    baselines = {"receive_ceiling_msgs_per_s": round(ceiling),
                 "naive_msgs_per_s": round(naive)}
    ratios = {"vs_ceiling": round(fast20["messages_per_s"] / ceiling, 3),
              "vs_naive": round(fast20["messages_per_s"] / naive, 1)}
    config = {"storage": storage, "broker": broker_kind, "devices": devices, "messages_20": n20,
              "messages_1": n1, "naive_messages": n_naive, "encoding": "half JSON, half binary",
              "ingest_processes": best,
              "ingest_processes_measured": counts,
              "ingest_processes_note": "worker processes on one $share subscription, each one "
                                       "IngestWorker; the headline and the latency phases use "
                                       "the fastest count of the 20-sample phase; the baselines "
                                       "are one process each",
              "latency": f"paced at half the measured rate ({paced_rate20} and {paced_rate1} "
                         "msgs/s), publish to commit",
              "batch_max_messages": settings.ingest_batch_max_messages,
              "batch_max_wait_ms": settings.ingest_batch_max_wait_ms, "quick": quick}
    return result("ingest", metrics, baselines, ratios, config)
