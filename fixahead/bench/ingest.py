"""`fixahead bench ingest`: end-to-end ingest through the real broker into PostgreSQL.

A separate publisher process sends QoS 1 messages; in this process an ingest worker stores
them. Baselines in the same run: a paho subscriber that only counts (the receive ceiling) and
a bridge doing one INSERT per message (the naive way).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from devices import protocol
from devices.protocol import Telemetry
from devices.store import register_device
from fixahead.bench.common import bench_broker, bench_database, percentile, result
from fixahead.settings import Settings
from fixahead.wiring import ingest_config
from ingest.mqtturl import parse_mqtt_url
from ingest.worker import IngestWorker
from ingest.writer import Committed

NAMES = ["motor_current", "water_inflow", "drain_time", "vibration"]
WINDOW = 30_000  # unacked QoS 1 publishes at most


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
    addr = parse_mqtt_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{seq0}")
    # paho rescans its whole queue on every ack when the in-flight window is capped, so the
    # window is kept here instead: never more than WINDOW unacked (packet ids are 16 bits)
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
    ids = [f"bench-{d:05d}" for d in range(devices)]
    now = int(time.time() * 1000) - 60_000
    encoded = [] if rate else [
        _encode(ids[i % devices], seq0 + i // devices, samples, now, (i % 2 == 0), prefix)
        for i in range(messages)]
    pipe.send("ready")
    pipe.recv()
    start = time.time()
    info = None
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
        if i - acked[0] >= WINDOW:
            with window:
                window.wait_for(lambda n=i: n - acked[0] < WINDOW, timeout=60)
        info = client.publish(topic, payload, qos=1)
    if info is not None:
        info.wait_for_publish(120)
    pipe.send(("done", start, time.time()))
    client.disconnect()
    client.loop_stop()


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
    addr = parse_mqtt_url(url)
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
    addr = parse_mqtt_url(url)
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


def _ingest(settings: Settings, url: str, db: str, prefix: str, devices: int, messages: int,
            samples: int, rate: float | None, seq0: int) -> dict[str, float]:
    latencies: list[np.ndarray] = []
    state = {"rows": 0, "last": 0.0}

    def on_commit(c: Committed) -> None:
        now = time.time()
        latencies.append(now * 1000 - c.ts_ms[::samples])
        state["rows"] += c.rows
        state["last"] = now

    # A phase of its own: the topic prefix differs per phase, because the sessions of earlier
    # phases' workers persist and would keep taking their share of a shared subscription.
    prefix = f"{prefix}/{seq0}"
    config = ingest_config(settings.model_copy(update={
        "topic_prefix": prefix, "ingest_client_id": f"bench-ingest-{seq0}"}), db, url)
    worker = IngestWorker(config, on_commit=on_commit)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    worker.ready.wait(30)
    run = _Run(url, prefix, devices, messages, samples, rate, seq0)
    run.go()
    start, _ = run.finish()
    deadline = time.time() + 300
    while state["rows"] < messages * samples and time.time() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(30)
    if state["rows"] != messages * samples:
        raise RuntimeError(f"ingest stored {state['rows']} of {messages * samples} rows")
    lat = np.concatenate(latencies).tolist() if latencies else []
    elapsed = state["last"] - start
    return {"messages_per_s": messages / elapsed, "readings_per_s": messages * samples / elapsed,
            "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99)}


def run(settings: Settings, *, quick: bool = False) -> dict[str, Any]:
    """Run every phase and return the standard result document."""
    devices = 1000
    n20 = 15_000 if quick else 60_000
    n1 = 20_000 if quick else 80_000
    n_naive = 1_000 if quick else 3_000
    with bench_database(settings) as db, bench_broker(settings) as (url, broker_kind):
        with psycopg.connect(db, autocommit=True) as conn:
            for d in range(devices):
                register_device(conn, f"bench-{d:05d}", "WM-800")
        prefix = "fxbench/v1"
        ceiling = _ceiling(url, prefix + "/ceiling", devices, n20, 20)
        fast20 = _ingest(settings, url, db, prefix, devices, n20, 20, None, 0)
        fast1 = _ingest(settings, url, db, prefix, devices, n1, 1, None, 10_000)
        paced_rate20 = round(0.5 * fast20["messages_per_s"])
        paced_rate1 = round(0.5 * fast1["messages_per_s"])
        paced20 = _ingest(settings, url, db, prefix, devices, min(n20, paced_rate20 * 5), 20,
                          paced_rate20, 20_000)
        paced1 = _ingest(settings, url, db, prefix, devices, min(n1, paced_rate1 * 5), 1,
                         paced_rate1, 30_000)
        naive = _naive(url, db, prefix + "/naive", devices, n_naive, 20, 40_000)
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
    }
    baselines = {"receive_ceiling_msgs_per_s": round(ceiling),
                 "naive_msgs_per_s": round(naive)}
    ratios = {"vs_ceiling": round(fast20["messages_per_s"] / ceiling, 3),
              "vs_naive": round(fast20["messages_per_s"] / naive, 1)}
    config = {"broker": broker_kind, "devices": devices, "messages_20": n20,
              "messages_1": n1, "naive_messages": n_naive, "encoding": "half JSON, half binary",
              "latency": f"paced at half the measured rate ({paced_rate20} and {paced_rate1} "
                         "msgs/s), publish to commit",
              "batch_max_messages": settings.ingest_batch_max_messages,
              "batch_max_wait_ms": settings.ingest_batch_max_wait_ms, "quick": quick}
    return result("ingest", metrics, baselines, ratios, config)
