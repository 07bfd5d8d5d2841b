"""Codes and states with control characters are refused by the decoders, with a reason."""

from __future__ import annotations

import pytest

from devices import protocol
from devices.protocol import EVENT_HEAD, HEADER, KIND_EVENTS, MAGIC, VERSION, ProtocolError, Reason


@pytest.mark.parametrize(("item", "where"), [
    (b'{"ts": 1, "type": "error", "code": "E2\\u00001"}', r"events\[0\]\.code"),
    (b'{"ts": 1, "type": "state", "state": "run\\u0000"}', r"events\[0\]\.state"),
    (b'{"ts": 1, "type": "cleared", "code": "E\\n1"}', r"events\[0\]\.code"),
    (b'{"ts": 1, "type": "error", "code": "E\\u007f"}', r"events\[0\]\.code"),
])
def test_json_event_text_with_a_control_character_is_refused(item, where):
    with pytest.raises(ProtocolError, match=where) as err:
        protocol.decode_events(b'{"seq": 1, "events": [' + item + b"]}", 10)
    assert err.value.reason == Reason.CONTROL_CHARACTER


@pytest.mark.parametrize(("type_index", "text"), [(0, b"E\x001"), (2, b"\x00"), (1, b"E\x1b")])
def test_binary_event_text_with_a_control_character_is_refused(type_index, text):
    payload = (HEADER.pack(MAGIC, VERSION, KIND_EVENTS, 1, 1_000, 1)
               + EVENT_HEAD.pack(0, type_index, len(text)) + text)
    with pytest.raises(ProtocolError) as err:
        protocol.decode_events(payload, 10)
    assert err.value.reason == Reason.CONTROL_CHARACTER


def test_printable_text_with_spaces_and_unicode_is_kept():
    msg = protocol.decode_events(
        '{"seq": 1, "events": [{"ts": 1, "type": "state", "state": "Tür offen"}]}'.encode(), 10)
    assert msg.events[0].state == "Tür offen"
