"""Measuring pieces of `fixahead bench incidents`: the paced publisher, the incident poller,
one phase of events under load, and the per-event latencies (topology-independent)."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import secrets
import time
from collections.abc import Iterator
from typing import Any

import psycopg

from devices import protocol
from devices.protocol import Event, Events, Telemetry
from devices.store import register_device
from fixahead.lab.bench.common import WindowedPublisher, percentile
from fixahead.lab.demo import provision_world

CODES = ("E90", "E21")
TYPICAL = (3.0, 8.0, 80.0, 0.5)  # WM-800 motor_current, water_inflow, drain_time, vibration

CHANGES = """SELECT c.id, i.device, i.fault, extract(epoch FROM c.recorded_at)::float8
             FROM incident_changes c JOIN incidents i USING (key)
             WHERE c.id > %s ORDER BY c.id"""


def telemetry_payload(seq: int, samples: int, now_ms: int) -> bytes:
    ts = [now_ms - (samples - 1 - k) * 20 for k in range(samples)]
    metrics = [1 + k % 4 for k in range(samples)]
    values = [TYPICAL[m - 1] * (1 + 0.01 * ((seq + k) % 7 - 3)) for k, m in enumerate(metrics)]
    return protocol.encode_telemetry_binary(Telemetry(seq, ts, metrics, values))


def publisher(url: str, prefix: str, load_ids: list[str], error_ids: list[str], rate: float,
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
                        telemetry_payload(seq0 + n // len(load_ids), samples, int(now * 1000)))
            n += 1
        else:
            time.sleep(max(0.0, min(event_due, load_due, end) - now))
    pub.close()
    pipe.send((start, time.time(), n, sent))


def poll_incidents(db: str, poll_s: float, pipe: Any) -> None:
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


def run_phase(commits: list[tuple[float, int]] | None, url: str, db: str, prefix: str,
           load_ids: list[str], error_ids: list[str], rate: float, samples: int, every_s: float,
           lead_s: float, seq0: int, alive: Any = None) -> dict[str, Any]:
    """Publish one phase and wait for every event's incident (or 60 s after the last).

    Readings stored while the events were sent: from ingest's commit callbacks (`commits`)
    in the single process; for separate roles, the stored readings whose sample time falls
    in that window, counted as soon as the publisher is done (so a backlog shows)."""
    ctx = mp.get_context("spawn")
    pipe, child = ctx.Pipe()
    proc = ctx.Process(target=publisher, args=(url, prefix, load_ids, error_ids, rate, samples,
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
        n_commits, rows = 0, readings_between(db, *window)
    keys = device_keys(db, error_ids)
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


def readings_between(db: str, t0: float, t1: float) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM telemetry WHERE time BETWEEN to_timestamp(%s) "
                           "AND to_timestamp(%s)", (t0, t1)).fetchone()
    return int(row[0]) if row else 0


def device_keys(db: str, device_ids: list[str]) -> dict[str, int]:
    with psycopg.connect(db) as conn:
        return dict(conn.execute("SELECT device_id, id FROM devices WHERE device_id = ANY(%s)",
                                 (device_ids,)).fetchall())


def latencies(phase: dict[str, Any], db: str, seen: dict[tuple[int, str], tuple[float, float]],
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
def polling(db: str, poll_s: float) -> Iterator[dict[str, Any]]:
    """The poller process for the block; afterwards `out` holds its "seen" and "period"."""
    ctx = mp.get_context("spawn")
    pipe, child = ctx.Pipe()
    poller = ctx.Process(target=poll_incidents, args=(db, poll_s, child))
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


def provision(db: str, ids: list[str], customers: list[str]) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        for d in ids:
            register_device(conn, d, "WM-800")
        # a customer per error device: dispatch decides, books and writes the outbox
        provision_world(conn, {d: [d] for d in customers}, seed=1)
