"""Refusal notices of the embedded broker: the first at once, then at most one per client per
interval with a count; the same form as the Mosquitto audit plugin's."""

from __future__ import annotations

import json

import pytest

from fixahead.aclnotices import MAX_CLIENTS, RefusalNotices


class FakeClock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def parsed(notices: list[bytes]) -> list[dict]:
    return [json.loads(n) for n in notices]


def test_the_first_refusal_of_a_client_is_reported_at_once() -> None:
    notices = RefusalNotices(1.0, FakeClock())
    out = notices.refused("wm-1", "wm-1", "subscribe", "$share/g/fixahead/v1/+/telemetry")
    assert parsed(out) == [{"client": "wm-1", "username": "wm-1", "access": "subscribe",
                            "topic": "$share/g/fixahead/v1/+/telemetry", "count": 1}]
    assert not notices.holding


def test_later_refusals_within_the_interval_are_held_and_reported_once_with_a_count() -> None:
    clock = FakeClock()
    notices = RefusalNotices(1.0, clock)
    notices.refused("wm-1", "wm-1", "subscribe", "a")
    for i in range(5):
        clock.now += 0.1
        assert notices.refused("wm-1", "wm-1", "publish", f"fixahead/v1/wm-{i}/telemetry") == []
    assert notices.holding and notices.due() == []
    clock.now = 101.0
    assert parsed(notices.due()) == [{"client": "wm-1", "username": "wm-1",
                                      "access": "publish", "topic": "fixahead/v1/wm-4/telemetry",
                                      "count": 5}]
    assert notices.due() == [] and not notices.holding


def test_clients_are_limited_apart() -> None:
    clock = FakeClock()
    notices = RefusalNotices(1.0, clock)
    assert len(notices.refused("wm-1", "wm-1", "publish", "t")) == 1
    assert len(notices.refused("wm-2", "wm-2", "publish", "t")) == 1
    assert notices.refused("wm-1", "wm-1", "publish", "t") == []


def test_a_refusal_after_the_interval_is_reported_at_once_with_what_was_held() -> None:
    clock = FakeClock()
    notices = RefusalNotices(1.0, clock)
    notices.refused("wm-1", "wm-1", "publish", "t")
    clock.now += 0.5
    notices.refused("wm-1", "wm-1", "publish", "t")
    clock.now += 0.6
    assert [n["count"] for n in parsed(notices.refused("wm-1", "wm-1", "publish", "t"))] == [2]


def test_too_many_clients_report_and_forget_the_longest_idle() -> None:
    clock = FakeClock()
    notices = RefusalNotices(1.0, clock)
    for i in range(MAX_CLIENTS):
        notices.refused(f"c{i}", f"c{i}", "publish", "t")
        clock.now += 0.0001
    notices.refused("c0", "c0", "publish", "t")  # held
    clock.now += 0.0001
    notices.refused("c1", "c1", "publish", "t")  # held; c2 is now the longest idle
    out = notices.refused("new", "new", "publish", "t")
    assert [n["client"] for n in parsed(out)] == ["new"]  # c2 held nothing: just forgotten
    assert notices.holding


def test_idle_clients_are_forgotten() -> None:
    clock = FakeClock()
    notices = RefusalNotices(1.0, clock)
    notices.refused("wm-1", "wm-1", "publish", "t")
    clock.now += 61
    assert notices.due() == []
    assert len(notices.refused("wm-1", "wm-1", "publish", "t")) == 1


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        RefusalNotices(-1, FakeClock())
