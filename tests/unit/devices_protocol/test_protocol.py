"""Codecs round-trip, and topic parsing rejects what is not a device topic."""

from __future__ import annotations

import pytest

from devices import protocol
from devices.protocol import Event, Events, ProtocolError, Telemetry
from devices.topics import parse_topic, subscription, topic_for


def test_binary_telemetry_round_trips_within_float32_precision():
    msg = Telemetry(2**40, [1_000, 1_250, 9_000], [1, 2, 3], [1.5, -20.25, 88.0])
    back = protocol.decode_telemetry(protocol.encode_telemetry_binary(msg), 100)
    assert back == msg


def test_json_telemetry_accepts_iso_timestamps_with_zone():
    payload = (b'{"seq": 3, "samples": [{"ts": "2026-11-22T10:00:00+01:00", '
               b'"metric": "m", "value": 1}]}')
    msg = protocol.decode_telemetry(payload, 10)
    assert msg.ts_ms == [1_795_338_000_000] and msg.values == [1.0]


def test_json_timestamp_without_zone_is_rejected_with_its_position():
    payload = b'{"seq": 3, "samples": [{"ts": "2026-11-22T10:00:00", "metric": "m", "value": 1}]}'
    with pytest.raises(ProtocolError, match=r"samples\[0\]\.ts"):
        protocol.decode_telemetry(payload, 10)


@pytest.mark.parametrize("encode", [protocol.encode_events_json, protocol.encode_events_binary])
def test_events_round_trip_in_both_encodings(encode):
    msg = Events(5, [Event(10, "error", code="E21"), Event(20, "cleared", code="E21"),
                     Event(30, "state", state="door_opened")])
    assert protocol.decode_events(encode(msg), 10) == msg


def test_topics_parse_and_build():
    t = parse_topic("fixahead/v1/wm-9/telemetry", "fixahead/v1")
    assert (t.device_id, t.channel) == ("wm-9", "telemetry")
    assert topic_for("fixahead/v1", "wm-9", "events") == "fixahead/v1/wm-9/events"
    assert subscription("fixahead/v1", "status", "ingest") == "$share/ingest/fixahead/v1/+/status"


@pytest.mark.parametrize("topic", ["fixahead/v1/wm-9", "fixahead/v1/a/b/telemetry",
                                   "fixahead/v1/+/telemetry", "fixahead/v1/wm-9/firmware"])
def test_bad_topics_are_rejected(topic):
    with pytest.raises(ValueError):
        parse_topic(topic, "fixahead/v1")
