"""From a scenario to MQTT messages: batch samples, add fault events, apply sensor faults and
network trouble, number each device's messages and encode them with `devices.protocol`.

Generation walks the window one chunk (two simulated days by default) at a time, so memory stays
flat for long runs; each chunk comes out sorted by the time the broker would receive it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from devices import protocol
from devices.catalog import load_catalog
from devices.topics import topic_for
from simulator.appliances import Appliance, make_appliance
from simulator.faults import fault_events
from simulator.fleet import Device
from simulator.network import duplicated, offline_intervals, publish_times, skew_at
from simulator.plan import Scenario, Shard, plan
from simulator.sensors import apply_sensor_faults
from simulator.timebase import DAY_MS, MINUTE_MS, Window, rng_for, window_ending_now

STREAM_PHYSICS = 5
DUPLICATE_DELAY_MS = 2_000
SEQ_BITS = 20


class Message(NamedTuple):
    """One publish: when it reaches the broker, from whom, and the encoded bytes."""

    publish_ms: int
    device_id: str
    channel: str
    seq: int
    created_ms: int
    duplicate: bool
    topic: str
    payload: bytes


def encode_binary(seq: int, ts: np.ndarray, metric: np.ndarray, value: np.ndarray) -> bytes:
    """`protocol.encode_telemetry_binary` from numpy columns, without building lists."""
    base = int(ts.min())
    rows = np.empty(len(ts), dtype=protocol.SAMPLE)
    rows["dt"] = ts - base
    rows["metric"] = metric
    rows["value"] = value
    head = protocol.HEADER.pack(protocol.MAGIC, protocol.VERSION, protocol.KIND_TELEMETRY, seq,
                                base, len(rows))
    return head + rows.tobytes()


def seq_base(window: Window) -> int:
    """First sequence number of every device in a run over `window` (room for 2^20 each)."""
    return window.start_ms << SEQ_BITS


class DeviceStream:
    """One device's message factory: its appliance physics, sequence counter and trouble."""

    def __init__(self, scenario: Scenario, device: Device, prefix: str, batch_ms: int) -> None:
        model = scenario.models[device.model_id]
        self.device = device
        self.faults = scenario.faults_of(device.device_id)
        self.network = scenario.network_of(device.device_id)
        self.sessions = scenario.sessions[device.device_id]
        self.appliance: Appliance = make_appliance(
            device.kind, model, self.faults, rng_for(scenario.seed, STREAM_PHYSICS, device.index))
        self.appliance.presence = (scenario.window.first_day * DAY_MS,
                                   scenario.presence[device.household])
        self.names = np.empty(max(m.id for m in model.metrics) + 1, dtype=object)
        for m in model.metrics:
            self.names[m.id] = m.name
        self.batch_ms = batch_ms
        self.window = scenario.window
        # a device's counter survives across runs: ingest dedupes on (device, seq), so a
        # second run of the same fleet must not reuse the first run's numbers
        self.seq = seq_base(scenario.window)
        self.topics = {ch: topic_for(prefix, device.device_id, ch)
                       for ch in ("telemetry", "events", "status")}
        self.events = sorted(e for f in self.faults for e in fault_events(f))

    def _telemetry(self, seq: int, ts: np.ndarray, mid: np.ndarray, val: np.ndarray) -> bytes:
        if self.device.binary:
            return encode_binary(seq, ts, mid, val)
        names = self.names[mid].tolist()
        return protocol.encode_telemetry_json(
            protocol.Telemetry(seq, ts.tolist(), names, val.tolist()))

    def _events(self, seq: int, events: list[tuple[int, str, str]], skew: int) -> bytes:
        msg = protocol.Events(seq, [
            protocol.Event(ts + skew, kind, None if kind == "state" else text,
                           text if kind == "state" else None) for ts, kind, text in events])
        if self.device.binary:
            return protocol.encode_events_binary(msg)
        return protocol.encode_events_json(msg)

    def messages(self, t0: int, t1: int) -> list[Message]:
        """Messages the device creates in [t0, t1), with their publish times."""
        w = self.window
        chunk = self.appliance.run(t0, t1, self.sessions)
        ts, mid, val = chunk.arrays()
        ts, mid, val = apply_sensor_faults(self.faults, self.appliance.ids, ts, mid, val,
                                           self.appliance.rng)
        keep = (ts >= w.start_ms) & (ts < w.end_ms)
        ts, mid, val = ts[keep], mid[keep], val[keep]
        events = [e for e in chunk.events if w.start_ms <= e[0] < w.end_ms]
        events += [e for e in self.events if t0 <= e[0] < t1]
        events.sort()
        # (created, order, kind, payload args): telemetry goes out at the end of its batch
        items: list[tuple[int, int, str, object]] = []
        raw = b""
        if len(ts):
            batch = ts // self.batch_ms
            cuts = np.flatnonzero(np.diff(batch)) + 1
            los, his = np.r_[0, cuts], np.r_[cuts, len(ts)]
            # a device keeps to the protocol's limits: a long batch goes out as several
            # messages (binary samples are 10 bytes; JSON ones about 60)
            most = MAX_SAMPLES_BINARY if self.device.binary else MAX_SAMPLES_JSON
            long = np.flatnonzero(his - los > most)
            if len(long):
                extra = np.concatenate([np.arange(los[k] + most, his[k], most) for k in long])
                cuts = np.sort(np.concatenate([cuts, extra]))
                los, his = np.r_[0, cuts], np.r_[cuts, len(ts)]
            made = np.maximum(np.minimum((batch[los] + 1) * self.batch_ms, w.end_ms - 1),
                              ts[his - 1])
            ts = ts + np.repeat(skew_at(made, self.network), his - los)
            if self.device.binary:
                rows = np.empty(len(ts), dtype=protocol.SAMPLE)
                rows["dt"] = ts - np.repeat(ts[los], his - los)
                rows["metric"] = mid
                rows["value"] = val
                raw = rows.tobytes()
            for lo, hi, at in zip(los.tolist(), his.tolist(), made.tolist(), strict=True):
                items.append((at, 1, "telemetry", (lo, hi)))
        # errors go out at once; state changes ride along with the batch they fall in
        states: dict[int, list[tuple[int, str, str]]] = {}
        for e in events:
            if e[1] == "state":
                states.setdefault(e[0] // self.batch_ms, []).append(e)
            else:
                items.append((e[0], 0, "events", [e]))
        for b, group in states.items():
            last = max(min((b + 1) * self.batch_ms, w.end_ms - 1), group[-1][0])
            items.append((last, 2, "events", group))
        items.sort(key=lambda x: (x[0], x[1]))
        if not items:
            return []
        created = np.array([x[0] for x in items], dtype=np.int64)
        skew = skew_at(created, self.network).tolist()
        sent = publish_times(created, self.network).tolist()
        dup = duplicated(created, self.network).tolist()
        out = []
        size = protocol.SAMPLE.itemsize
        head = protocol.HEADER.pack
        for i, (at, _, channel, arg) in enumerate(items):
            seq = self.seq
            self.seq += 1
            if channel == "telemetry":
                lo, hi = arg  # type: ignore[misc]
                if self.device.binary:
                    payload = head(protocol.MAGIC, protocol.VERSION, protocol.KIND_TELEMETRY,
                                   seq, int(ts[lo]), hi - lo) + raw[lo * size : hi * size]
                else:
                    payload = self._telemetry(seq, ts[lo:hi], mid[lo:hi], val[lo:hi])
            else:
                payload = self._events(seq, arg, skew[i])  # type: ignore[arg-type]
            msg = Message(sent[i], self.device.device_id, channel, seq, at, False,
                          self.topics[channel], payload)
            out.append(msg)
            if dup[i]:
                out.append(msg._replace(publish_ms=msg.publish_ms + DUPLICATE_DELAY_MS,
                                        duplicate=True))
        for start, end in offline_intervals(self.network):
            for at, online in ((start, False), (end, True)):
                if t0 <= at < t1:
                    out.append(Message(at, self.device.device_id, "status", -1, at, False,
                                       self.topics["status"],
                                       protocol.encode_status(protocol.Status(online, at))))
        return out


MAX_SAMPLES_BINARY = 1000  # the protocol's default limit on samples per message
MAX_SAMPLES_JSON = 400  # keeps a JSON message well under the 64 KiB size limit


class Traffic:
    """Iterate a scenario's messages chunk by chunk, each chunk sorted by publish time."""

    def __init__(self, scenario: Scenario, prefix: str = "fixahead/v1", *,
                 batch_s: float = 1800, chunk_ms: int = 2 * DAY_MS) -> None:
        self.scenario = scenario
        self.chunk_ms = chunk_ms
        self.streams = [DeviceStream(scenario, d, prefix, int(batch_s * 1000))
                        for d in scenario.devices]

    def chunks(self) -> Iterator[list[Message]]:
        """Lists of messages, one per chunk of simulated time; held backlog follows later."""
        w = self.scenario.window
        pending: list[tuple[int, int, Message]] = []
        order = 0
        t0 = w.start_ms
        while t0 < w.end_ms:
            t1 = min(w.end_ms, (t0 // self.chunk_ms + 1) * self.chunk_ms)
            for stream in self.streams:
                for m in stream.messages(t0, t1):
                    heapq.heappush(pending, (m.publish_ms, order, m))
                    order += 1
            ready = []
            last = t1 >= w.end_ms
            while pending and (last or pending[0][0] < t1):
                ready.append(heapq.heappop(pending)[2])
            yield ready
            ready = []
            t0 = t1

    def __iter__(self) -> Iterator[Message]:
        for chunk in self.chunks():
            yield from chunk


@dataclass(frozen=True)
class Encoded:
    """A whole run pre-encoded: devices to register, messages in publish order, and counts."""

    devices: list[tuple[str, str]]  # (device_id, model_id)
    messages: list[tuple[str, bytes]]  # (topic, payload)
    unique_messages: int  # without duplicate deliveries and status messages
    samples: int  # telemetry samples in the unique messages
    window: Window


def encode_run(households: int, days: float, seed: int, *, prefix: str = "fixahead/v1",
               window: Window | None = None, now_ms: int | None = None,
               batch_s: float = 1800, shard: Shard | None = None,
               network_rate: float = 0.01) -> Encoded:
    """Generate and encode a whole run in memory (the window ends now unless given)."""
    import time

    if window is None:
        window = window_ending_now(days, 0, now_ms or int(time.time() * 1000))
    scenario = plan(households, window, seed, load_catalog(), shard=shard,
                    network_rate=network_rate)
    messages, unique, samples = [], 0, 0
    count_header = protocol.HEADER.size
    for m in Traffic(scenario, prefix, batch_s=batch_s):
        messages.append((m.topic, m.payload))
        if m.duplicate or m.channel == "status":
            continue
        unique += 1
        if m.channel == "telemetry":
            if protocol.is_binary(m.payload):
                samples += (len(m.payload) - count_header) // protocol.SAMPLE.itemsize
            else:
                samples += len(protocol.decode_telemetry_json(m.payload, 1 << 20).ts_ms)
    devices = [(d.device_id, d.model_id) for d in scenario.devices]
    return Encoded(devices, messages, unique, samples, window)


def pre_encode(households: int, days: float, seed: int, *, prefix: str = "fixahead/v1",
               window: Window | None = None, now_ms: int | None = None,
               batch_s: float = 1800, shard: Shard | None = None) -> list[tuple[str, bytes]]:
    """All messages of a run as (topic, payload) in publish order, for benchmarks."""
    return encode_run(households, days, seed, prefix=prefix, window=window, now_ms=now_ms,
                      batch_s=batch_s, shard=shard).messages


__all__ = ["MINUTE_MS", "Encoded", "Message", "Traffic", "encode_binary", "encode_run",
           "pre_encode"]
