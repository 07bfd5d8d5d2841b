"""BatchBuilder routes every message to rows, a status update or a dead letter."""

from __future__ import annotations

import pytest

from devices import protocol
from devices.protocol import Event, Events, Limits
from devices.registry import DeviceInfo, ModelInfo, RegistrySnapshot
from ingest.batch import BatchBuilder
from tests.support.ingest import MALFORMED, NOW, good

PREFIX = "fixahead/v1"
REGISTRY = RegistrySnapshot(
    devices={
        "wm-1": DeviceInfo(1, "wm-1", "WM-800"),
        "wm-2": DeviceInfo(2, "wm-2", "WM-800"),
        "old-1": DeviceInfo(3, "old-1", "WM-800", revoked=True),
    },
    models={"WM-800": ModelInfo("WM-800", {"motor_current": 1, "drain_time": 3},
                                {"E21": ("Water does not drain", "error")})},
)


def builder(**kwargs: object) -> BatchBuilder:
    return BatchBuilder(REGISTRY, Limits(max_message_bytes=8192, max_samples=50), PREFIX,
                        **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("topic", "payload", "reason"), MALFORMED,
                         ids=[f"{i}-{m[2]}" for i, m in enumerate(MALFORMED)])
def test_malformed_message_is_dead_lettered_with_its_reason(topic, payload, reason):
    b = builder()
    b.add(topic, payload, "token", NOW)
    batch = b.take()
    assert [d.reason for d in batch.dead] == [reason]
    assert batch.dead[0].payload == payload
    assert batch.dead[0].detail
    assert batch.tokens == ["token"] and batch.rows == 0 and not batch.events


def test_bad_messages_do_not_disturb_good_ones_around_them():
    b = builder()
    b.add("fixahead/v1/wm-1/telemetry", good(), 1, NOW)
    b.add("fixahead/v1/wm-1/telemetry", b"garbage", 2, NOW)
    b.add("fixahead/v1/wm-2/telemetry", good(), 3, NOW)
    batch = b.take()
    assert batch.tokens == [1, 2, 3]
    assert batch.rows == 4 and batch.device == [1, 1, 2, 2]
    assert batch.metric == [1, 3, 1, 3]
    assert len(batch.dead) == 1


def test_same_sequence_number_twice_in_one_batch_is_kept_once():
    b = builder()
    b.add("fixahead/v1/wm-1/telemetry", good(), 1, NOW)
    b.add("fixahead/v1/wm-1/telemetry", good(), 2, NOW)
    batch = b.take()
    assert batch.rows == 2 and batch.duplicates_in_batch == 1 and batch.tokens == [1, 2]


def test_unknown_error_code_is_kept_and_flagged():
    b = builder()
    msg = protocol.encode_events_binary(Events(9, [Event(NOW, "error", code="E21"),
                                                   Event(NOW, "error", code="X1"),
                                                   Event(NOW, "state", state="cycle_started")]))
    b.add("fixahead/v1/wm-1/events", msg, 1, NOW)
    events = b.take().events
    assert [(e[3], e[4], e[5], e[6], e[8]) for e in events] == [
        ("error", "E21", None, "Water does not drain", True),
        ("error", "X1", None, None, False),
        ("state", None, "cycle_started", None, True),
    ]


def test_device_registered_after_the_snapshot_is_found_by_lookup():
    late = DeviceInfo(7, "wm-new", "WM-800")
    b = builder(lookup_device=lambda device_id: late if device_id == "wm-new" else None)
    b.add("fixahead/v1/wm-new/telemetry", good(), 1, NOW)
    assert b.take().device == [7, 7]


def test_status_updates_online_state():
    b = builder()
    b.add("fixahead/v1/wm-1/status", b'{"state": "offline"}', 1, NOW)
    assert b.take().statuses == {1: (False, NOW)}


def test_empty_retained_status_clears_without_a_dead_letter():
    b = builder()
    b.add("fixahead/v1/wm-1/status", b"", 1, NOW)
    batch = b.take()
    assert batch.tokens == [1] and not batch.dead and not batch.statuses
