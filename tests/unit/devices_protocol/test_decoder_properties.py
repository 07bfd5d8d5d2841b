"""Property tests: whatever bytes arrive, a decoder returns a valid message or raises
ProtocolError, and what it accepts can be stored (no control characters, finite values)."""

from __future__ import annotations

import contextlib
import math

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import protocol
from devices.protocol import CONTROL, EVENT_HEAD, HEADER, KIND_EVENTS, MAGIC, VERSION, ProtocolError

DECODERS = (protocol.decode_telemetry, protocol.decode_events)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=70)  # JSON has no surrogates
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12)
event_item = st.fixed_dictionaries({
    "ts": st.integers(-2**63, 2**63 - 1) | text,
    "type": st.sampled_from(["error", "cleared", "state", "other"]) | text,
    "code": text, "state": text})


def accepted_is_storable(msg: object) -> None:
    if isinstance(msg, protocol.Events):
        for e in msg.events:
            value = e.code if e.type != "state" else e.state
            assert value and not CONTROL.search(value) and len(value) <= 64
    elif isinstance(msg, protocol.Telemetry):
        assert all(math.isfinite(v) for v in msg.values)
        assert len(msg.ts_ms) == len(msg.metrics) == len(msg.values) > 0


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_decode_or_raise_protocol_error(payload):
    for decode in DECODERS:
        with contextlib.suppress(ProtocolError):
            accepted_is_storable(decode(payload, 50))
    with contextlib.suppress(ProtocolError):
        protocol.decode_status(payload)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**64 - 1), st.lists(event_item, min_size=0, max_size=5), json_value)
def test_json_events_decode_or_raise_protocol_error(seq, items, extra):
    payload = orjson.dumps({"seq": seq, "events": items, "x": extra})
    with contextlib.suppress(ProtocolError):
        accepted_is_storable(protocol.decode_events(payload, 50))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-2**31, 2**31 - 1), st.integers(0, 3),
                          st.binary(min_size=0, max_size=70)), min_size=1, max_size=5))
def test_binary_events_decode_or_raise_protocol_error(events):
    parts = [HEADER.pack(MAGIC, VERSION, KIND_EVENTS, 1, 0, len(events))]
    for dt, kind, raw in events:
        parts.append(EVENT_HEAD.pack(dt, kind, min(len(raw), 255)) + raw[:255])
    with contextlib.suppress(ProtocolError):
        accepted_is_storable(protocol.decode_events(b"".join(parts), 50))
