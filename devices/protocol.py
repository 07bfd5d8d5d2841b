"""The device wire protocol: message types, JSON and binary codecs, and their errors. No I/O.

Decoders check the shape of a message only (types, finiteness, limits on size and count);
what depends on the registry or the clock (known device, known metric, timestamp skew) is
checked by ingest against its own state.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np
import orjson


class Reason(StrEnum):
    """Why a message was dead-lettered; one counter per value."""

    OVERSIZED = "oversized"
    BAD_TOPIC = "bad_topic"
    BAD_JSON = "bad_json"
    BAD_BINARY = "bad_binary"
    BAD_SCHEMA = "bad_schema"
    NON_FINITE = "non_finite"
    TOO_MANY_SAMPLES = "too_many_samples"
    UNKNOWN_DEVICE = "unknown_device"
    REVOKED_DEVICE = "revoked_device"
    DEVICE_MISMATCH = "device_mismatch"
    UNKNOWN_METRIC = "unknown_metric"
    TS_FUTURE = "ts_future"
    TS_PAST = "ts_past"
    CONTROL_CHARACTER = "control_character"
    WRITE_ERROR = "write_error"  # the database refused the message's rows (ingest's last line)
    ACL_DENIED = "acl_denied"  # the broker refused a device a topic (its report, not a message)


class ProtocolError(ValueError):
    """A message that breaks the protocol; `reason` is machine-readable, `detail` says where."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """Protocol limits a receiver enforces."""

    max_message_bytes: int = 65536
    max_samples: int = 1000
    max_future_skew_ms: int = 300_000
    max_past_age_ms: int = 7 * 86_400_000


@dataclass(frozen=True, slots=True)
class Telemetry:
    """A batch of samples in columns; `metrics` holds names (JSON) or catalog ids (binary)."""

    seq: int
    ts_ms: list[int]
    metrics: list[str] | list[int]
    values: list[float]
    device: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """An error code raised or cleared, or an appliance state change."""

    ts_ms: int
    type: str  # "error" | "cleared" | "state"
    code: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class Events:
    """A message of events with its sequence number."""

    seq: int
    events: list[Event] = field(default_factory=list)
    device: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """Retained online/offline status (the last will says offline)."""

    online: bool
    ts_ms: int | None = None


EVENT_TYPES = ("error", "cleared", "state")
MAX_SEQ = 2**63 - 1
MAGIC = b"FX"
VERSION = 1
KIND_TELEMETRY = 1
KIND_EVENTS = 2
HEADER = struct.Struct(">2sBBQqH")  # magic, version, kind, seq, base_ts_ms, count
SAMPLE = np.dtype([("dt", ">i4"), ("metric", ">u2"), ("value", ">f4")])
EVENT_HEAD = struct.Struct(">iBB")  # dt_ms, type index, text length; then the ASCII text
# C0 controls and DEL: PostgreSQL text cannot hold NUL, and none of them belongs in a code
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_text(text: str, where: str) -> None:
    """Refuse control characters in a code or state, naming the first one."""
    found = CONTROL.search(text)
    if found is not None:
        raise ProtocolError(
            Reason.CONTROL_CHARACTER,
            f"{where}: control character U+{ord(found.group()):04X} at {found.start()}",
        )


# --- JSON --------------------------------------------------------------------------------


def _ts(value: object, where: str) -> int:
    if type(value) is int:
        return value
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ProtocolError(Reason.BAD_SCHEMA, f"{where}: {value!r} is not ISO 8601") from None
        if parsed.tzinfo is None:
            raise ProtocolError(Reason.BAD_SCHEMA, f"{where}: {value!r} has no time zone")
        return int(parsed.timestamp() * 1000)
    raise ProtocolError(Reason.BAD_SCHEMA, f"{where}: must be epoch milliseconds or ISO 8601")


def _object(payload: bytes) -> dict[str, object]:
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(Reason.BAD_JSON, str(exc)) from None
    if type(doc) is not dict:
        raise ProtocolError(Reason.BAD_SCHEMA, "message must be a JSON object")
    return doc


def _seq_and_device(doc: dict[str, object]) -> tuple[int, str | None]:
    seq = doc.get("seq")
    if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
        raise ProtocolError(Reason.BAD_SCHEMA, "seq: must be an integer in [0, 2^63)")
    device = doc.get("device")
    if device is not None and type(device) is not str:
        raise ProtocolError(Reason.BAD_SCHEMA, "device: must be a string")
    return seq, device


def decode_telemetry_json(payload: bytes, max_samples: int) -> Telemetry:
    """Decode `{"seq": n, "samples": [{"ts", "metric", "value"}, ...]}`."""
    doc = _object(payload)
    seq, device = _seq_and_device(doc)
    samples = doc.get("samples")
    if type(samples) is not list or not samples:
        raise ProtocolError(Reason.BAD_SCHEMA, "samples: must be a non-empty list")
    if len(samples) > max_samples:
        raise ProtocolError(
            Reason.TOO_MANY_SAMPLES, f"samples: {len(samples)} exceeds the limit {max_samples}"
        )
    fast = _fast_samples(samples)
    if fast is not None:
        return Telemetry(seq, fast[0], fast[1], fast[2], device)
    # the slow path finds the first bad sample and says what is wrong with it
    ts_ms: list[int] = []
    metrics: list[str] = []
    values: list[float] = []
    for i, sample in enumerate(samples):
        if type(sample) is not dict:
            raise ProtocolError(Reason.BAD_SCHEMA, f"samples[{i}]: must be an object")
        metric = sample.get("metric")
        value = sample.get("value")
        if type(metric) is not str or not metric:
            raise ProtocolError(Reason.BAD_SCHEMA, f"samples[{i}].metric: must be a string")
        vtype = type(value)
        if vtype is not float and vtype is not int:
            raise ProtocolError(Reason.BAD_SCHEMA, f"samples[{i}].value: must be a number")
        fvalue = float(value)  # type: ignore[arg-type]
        if not math.isfinite(fvalue):
            raise ProtocolError(Reason.NON_FINITE, f"samples[{i}].value: {value!r}")
        ts_ms.append(_ts(sample.get("ts"), f"samples[{i}].ts"))
        metrics.append(metric)
        values.append(fvalue)
    return Telemetry(seq, ts_ms, metrics, values, device)


def _fast_samples(samples: list[object]) -> tuple[list[int], list[str], list[float]] | None:
    """Columns of well-formed samples with integer timestamps, or None to take the slow path.

    Comprehensions over the whole list cost about a third of a checked loop per sample; any
    irregularity (a missing key, another type, a string timestamp, an infinity) falls back.
    """
    try:
        ts_ms = [s["ts"] for s in samples]  # type: ignore[index]
        metrics = [s["metric"] for s in samples]  # type: ignore[index]
        raw = [s["value"] for s in samples]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        return None
    if not (all(type(t) is int for t in ts_ms) and all(type(m) is str and m for m in metrics)
            and all(type(v) is float or type(v) is int for v in raw)):
        return None
    values = [float(v) for v in raw]
    if not all(map(math.isfinite, values)):
        return None
    return ts_ms, metrics, values


def decode_events_json(payload: bytes, max_events: int) -> Events:
    """Decode `{"seq": n, "events": [{"ts", "type", "code" | "state"}, ...]}`."""
    doc = _object(payload)
    seq, device = _seq_and_device(doc)
    items = doc.get("events")
    if type(items) is not list or not items:
        raise ProtocolError(Reason.BAD_SCHEMA, "events: must be a non-empty list")
    if len(items) > max_events:
        raise ProtocolError(
            Reason.TOO_MANY_SAMPLES, f"events: {len(items)} exceeds the limit {max_events}"
        )
    events = []
    for i, item in enumerate(items):
        if type(item) is not dict:
            raise ProtocolError(Reason.BAD_SCHEMA, f"events[{i}]: must be an object")
        kind = item.get("type")
        if kind not in EVENT_TYPES:
            raise ProtocolError(
                Reason.BAD_SCHEMA, f"events[{i}].type: must be one of {EVENT_TYPES}"
            )
        key = "state" if kind == "state" else "code"
        text = item.get(key)
        if type(text) is not str or not 0 < len(text) <= 64:
            raise ProtocolError(Reason.BAD_SCHEMA, f"events[{i}].{key}: must be 1-64 characters")
        _check_text(text, f"events[{i}].{key}")
        ts = _ts(item.get("ts"), f"events[{i}].ts")
        events.append(Event(ts, kind, text if key == "code" else None,  # type: ignore[arg-type]
                            text if key == "state" else None))
    return Events(seq, events, device)


def decode_status(payload: bytes) -> Status:
    """Decode `{"state": "online"|"offline", "ts": ...}`."""
    doc = _object(payload)
    state = doc.get("state")
    if state not in ("online", "offline"):
        raise ProtocolError(Reason.BAD_SCHEMA, "state: must be 'online' or 'offline'")
    ts = doc.get("ts")
    return Status(state == "online", None if ts is None else _ts(ts, "ts"))


def encode_telemetry_json(msg: Telemetry) -> bytes:
    """Encode telemetry as JSON (metric names expected)."""
    doc: dict[str, object] = {
        "seq": msg.seq,
        "samples": [
            {"ts": t, "metric": m, "value": v}
            for t, m, v in zip(msg.ts_ms, msg.metrics, msg.values, strict=True)
        ],
    }
    if msg.device is not None:
        doc["device"] = msg.device
    return orjson.dumps(doc)


def encode_events_json(msg: Events) -> bytes:
    """Encode events as JSON."""
    items = []
    for e in msg.events:
        item: dict[str, object] = {"ts": e.ts_ms, "type": e.type}
        if e.type == "state":
            item["state"] = e.state
        else:
            item["code"] = e.code
        items.append(item)
    doc: dict[str, object] = {"seq": msg.seq, "events": items}
    if msg.device is not None:
        doc["device"] = msg.device
    return orjson.dumps(doc)


def encode_status(status: Status) -> bytes:
    """Encode a status message."""
    doc: dict[str, object] = {"state": "online" if status.online else "offline"}
    if status.ts_ms is not None:
        doc["ts"] = status.ts_ms
    return orjson.dumps(doc)


# --- binary ------------------------------------------------------------------------------


def is_binary(payload: bytes) -> bool:
    """Whether a payload uses the binary encoding (it starts with the magic bytes)."""
    return payload[:2] == MAGIC


def _header(payload: bytes, kind: int) -> tuple[int, int, int]:
    if len(payload) < HEADER.size:
        raise ProtocolError(Reason.BAD_BINARY, f"{len(payload)} bytes is shorter than the header")
    magic, version, got_kind, seq, base, count = HEADER.unpack_from(payload)
    if magic != MAGIC or version != VERSION:
        raise ProtocolError(Reason.BAD_BINARY, f"unsupported magic/version {magic!r}/{version}")
    if got_kind != kind:
        raise ProtocolError(Reason.BAD_BINARY, f"kind {got_kind} sent to a channel for {kind}")
    if seq > MAX_SEQ:
        raise ProtocolError(Reason.BAD_SCHEMA, "seq: must be below 2^63")
    return seq, base, count


def decode_telemetry_binary(payload: bytes, max_samples: int) -> Telemetry:
    """Decode the binary telemetry layout (see docs/protocol.md); metrics are catalog ids."""
    seq, base, count = _header(payload, KIND_TELEMETRY)
    if count == 0:
        raise ProtocolError(Reason.BAD_SCHEMA, "samples: count is 0")
    if count > max_samples:
        raise ProtocolError(Reason.TOO_MANY_SAMPLES, f"{count} exceeds the limit {max_samples}")
    expected = HEADER.size + count * SAMPLE.itemsize
    if len(payload) != expected:
        raise ProtocolError(
            Reason.BAD_BINARY, f"{count} samples need {expected} bytes, got {len(payload)}"
        )
    rows = np.frombuffer(payload, dtype=SAMPLE, count=count, offset=HEADER.size)
    values = rows["value"].astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ProtocolError(Reason.NON_FINITE, f"samples[{int(np.argmax(bad))}].value")
    ts = (rows["dt"].astype(np.int64) + base).tolist()
    return Telemetry(seq, ts, rows["metric"].astype(np.int64).tolist(), values.tolist())


def encode_telemetry_binary(msg: Telemetry) -> bytes:
    """Encode telemetry in the binary layout; `metrics` must be catalog ids."""
    base = min(msg.ts_ms)
    rows = np.empty(len(msg.ts_ms), dtype=SAMPLE)
    rows["dt"] = np.asarray(msg.ts_ms, dtype=np.int64) - base
    rows["metric"] = msg.metrics
    rows["value"] = msg.values
    return HEADER.pack(MAGIC, VERSION, KIND_TELEMETRY, msg.seq, base, len(rows)) + rows.tobytes()


def decode_events_binary(payload: bytes, max_events: int) -> Events:
    """Decode binary events: per event dt_ms i32, type u8 (0 error, 1 cleared, 2 state), text."""
    seq, base, count = _header(payload, KIND_EVENTS)
    if not 0 < count <= max_events:
        raise ProtocolError(Reason.TOO_MANY_SAMPLES, f"event count {count} not in 1..{max_events}")
    offset = HEADER.size
    events = []
    for i in range(count):
        if offset + EVENT_HEAD.size > len(payload):
            raise ProtocolError(Reason.BAD_BINARY, f"events[{i}]: truncated")
        dt, type_index, length = EVENT_HEAD.unpack_from(payload, offset)
        offset += EVENT_HEAD.size
        text_bytes = payload[offset : offset + length]
        offset += length
        if type_index >= len(EVENT_TYPES) or len(text_bytes) != length or not length:
            raise ProtocolError(Reason.BAD_BINARY, f"events[{i}]: bad type or text")
        try:
            text = text_bytes.decode("ascii")
        except UnicodeDecodeError:
            raise ProtocolError(Reason.BAD_BINARY, f"events[{i}]: text is not ASCII") from None
        kind = EVENT_TYPES[type_index]
        _check_text(text, f"events[{i}].{'state' if kind == 'state' else 'code'}")
        events.append(Event(base + dt, kind, None if kind == "state" else text,
                            text if kind == "state" else None))
    if offset != len(payload):
        raise ProtocolError(Reason.BAD_BINARY, f"{len(payload) - offset} trailing bytes")
    return Events(seq, events)


def encode_events_binary(msg: Events) -> bytes:
    """Encode events in the binary layout."""
    base = min(e.ts_ms for e in msg.events)
    parts = [HEADER.pack(MAGIC, VERSION, KIND_EVENTS, msg.seq, base, len(msg.events))]
    for e in msg.events:
        text = (e.state if e.type == "state" else e.code) or ""
        raw = text.encode("ascii")
        parts.append(EVENT_HEAD.pack(e.ts_ms - base, EVENT_TYPES.index(e.type), len(raw)) + raw)
    return b"".join(parts)


def decode_telemetry(payload: bytes, max_samples: int) -> Telemetry:
    """Decode telemetry in either encoding."""
    if is_binary(payload):
        return decode_telemetry_binary(payload, max_samples)
    return decode_telemetry_json(payload, max_samples)


def decode_events(payload: bytes, max_events: int) -> Events:
    """Decode events in either encoding."""
    if is_binary(payload):
        return decode_events_binary(payload, max_events)
    return decode_events_json(payload, max_events)
