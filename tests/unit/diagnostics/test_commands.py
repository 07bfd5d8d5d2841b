"""The command/reply wire format: round trips and refusals."""

from __future__ import annotations

import pytest

from devices.commands import (
    Command,
    CommandError,
    CommandKind,
    Reply,
    ReplyStatus,
    ReplyType,
    ack,
    decode_command,
    decode_reply,
    encode_command,
    encode_reply,
    new_request_id,
    peek_request_id,
    result,
)

CMD = Command("req-0001-abcd", CommandKind.DIAGNOSTICS_SNAPSHOT, 1_000, 61_000)


def test_a_command_round_trips_through_json() -> None:
    assert decode_command(encode_command(CMD)) == CMD


def test_an_ack_and_a_result_round_trip_through_json() -> None:
    for reply in (ack(CMD, 2_000), result(CMD, 3_000, "ok", {"state": "idle", "n": 1.5})):
        assert decode_reply(encode_reply(reply)) == reply


def test_fresh_request_ids_are_valid_and_distinct() -> None:
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    for i in ids:
        Command(i, CommandKind.SELF_TEST, 0, 1)


def test_a_command_must_expire_after_it_was_issued() -> None:
    with pytest.raises(ValueError):
        Command("req-0001-abcd", CommandKind.SELF_TEST, 5, 5)
    with pytest.raises(CommandError, match="expires"):
        decode_command(b'{"id": "req-0001-abcd", "kind": "self_test", "issued": 5, '
                       b'"expires": 4}')


def test_a_command_knows_when_it_has_expired() -> None:
    assert not CMD.expired(60_999) and CMD.expired(61_000)


def test_an_unknown_kind_is_unsupported_but_its_id_can_still_be_read() -> None:
    payload = b'{"id": "req-0001-abcd", "kind": "reboot", "issued": 1, "expires": 2}'
    with pytest.raises(CommandError) as err:
        decode_command(payload)
    assert err.value.reason == "unsupported"
    assert peek_request_id(payload) == "req-0001-abcd"


@pytest.mark.parametrize(("payload", "reason"), [
    (b"not json", "bad_json"),
    (b"[]", "bad_schema"),
    (b'{"id": "short", "type": "ack", "ts": 1}', "bad_schema"),
    (b'{"id": "req-0001-abcd", "type": "nack", "ts": 1}', "bad_schema"),
    (b'{"id": "req-0001-abcd", "type": "ack", "ts": "yesterday"}', "bad_schema"),
    (b'{"id": "req-0001-abcd", "type": "result", "ts": 1, "status": "maybe"}', "bad_schema"),
    (b'{"id": "req-0001-abcd", "type": "result", "ts": 1, "result": [1]}', "bad_schema"),
    (b"{" + b" " * 40000 + b"}", "oversized"),
])
def test_malformed_replies_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(CommandError) as err:
        decode_reply(payload)
    assert err.value.reason == reason


def test_an_ack_carries_no_result() -> None:
    with pytest.raises(ValueError):
        Reply("req-0001-abcd", ReplyType.ACK, 1, ReplyStatus.OK)
