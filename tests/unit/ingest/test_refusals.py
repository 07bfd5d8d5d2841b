"""The broker's refusal notices become `acl_denied` dead letters, counted per access."""

from __future__ import annotations

import json

from devices.protocol import Limits
from devices.registry import RegistrySnapshot
from ingest.batch import BatchBuilder
from ingest.refusals import Refusal, refusal_letter
from tests.support.ingest import NOW

PREFIX = "fixahead/v1"
NOTICES = f"{PREFIX}/_broker/acl-denied"


def notice(**fields: object) -> bytes:
    doc = {"client": "wm-1", "username": "wm-1", "access": "subscribe",
           "topic": f"$share/ingest/{PREFIX}/+/telemetry", "count": 3, **fields}
    return json.dumps(doc).encode()


def test_a_notice_becomes_a_dead_letter_of_the_refused_topic_and_device() -> None:
    letter, refusal = refusal_letter(NOTICES, notice(), PREFIX, 4096)
    assert refusal == Refusal("subscribe", 3)
    assert letter.reason == "acl_denied"
    assert letter.topic == f"$share/ingest/{PREFIX}/+/telemetry"
    assert letter.device_id == "wm-1"
    assert letter.payload == notice()
    assert "subscribe refused" in letter.detail and "3 times" in letter.detail


def test_a_username_that_is_no_device_id_leaves_the_device_empty() -> None:
    letter, _ = refusal_letter(NOTICES, notice(username="not a device"), PREFIX, 4096)
    assert letter.device_id is None


def test_a_malformed_notice_is_kept_with_the_reason_bad_schema() -> None:
    for payload in (b"{", notice(count=0), notice(access="steal"), notice(count="2"),
                    json.dumps({"client": "x"}).encode()):
        letter, refusal = refusal_letter(NOTICES, payload, PREFIX, 4096)
        assert refusal is None
        assert letter.reason == "bad_schema" and letter.topic == NOTICES
        assert letter.payload == payload


def test_the_batch_builder_routes_notices_to_dead_letters_and_refusals() -> None:
    b = BatchBuilder(RegistrySnapshot(devices={}, models={}), Limits(), PREFIX)
    b.add(NOTICES, notice(access="publish", topic=f"{PREFIX}/wm-2/telemetry", count=1),
          "token", NOW)
    batch = b.take()
    assert batch.tokens == ["token"]
    assert [(d.reason, d.topic, d.device_id) for d in batch.dead] == [
        ("acl_denied", f"{PREFIX}/wm-2/telemetry", "wm-1")]
    assert batch.refusals == [Refusal("publish", 1)]
