"""The diagnostics request state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devices.commands import ack, result
from devices.diagnostics import (
    Refusal,
    State,
    apply_reply,
    expire,
    mark_sent,
    new_request,
    should_publish,
    waiting_reason,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=30)


def pending():  # type: ignore[no-untyped-def]
    return new_request("req-0001-abcd", "wm-1", "diagnostics_snapshot", now=NOW, ttl=TTL)


def test_a_request_waits_while_its_device_is_offline() -> None:
    req = pending()
    assert not should_publish(req, now=NOW, online=False)
    assert waiting_reason(req, online=False) == "waiting for the device to come online"
    assert should_publish(req, now=NOW + timedelta(minutes=5), online=True)


def test_a_request_that_waited_too_long_expires_unsent() -> None:
    req = pending()
    assert expire(req, now=NOW + timedelta(minutes=29)).state is State.PENDING
    late = expire(req, now=NOW + TTL)
    assert late.state is State.EXPIRED and not late.open
    assert not should_publish(late, now=NOW + TTL, online=True)


def test_sent_then_acknowledged_then_answered() -> None:
    req = mark_sent(pending(), now=NOW)
    cmd = req.command()
    a = apply_reply(req, "wm-1", ack(cmd, 1), now=NOW + timedelta(seconds=1))
    assert a.accepted and a.request is not None and a.request.state is State.ACKNOWLEDGED
    r = apply_reply(a.request, "wm-1", result(cmd, 2, "ok", {"state": "idle"}),
                    now=NOW + timedelta(seconds=2))
    assert r.accepted and r.request is not None
    assert r.request.state is State.ANSWERED and r.request.result == {"state": "idle"}
    assert r.request.status == "ok"


def test_a_result_without_its_ack_still_answers() -> None:
    req = mark_sent(pending(), now=NOW)
    r = apply_reply(req, "wm-1", result(req.command(), 2, "ok"), now=NOW)
    assert r.request is not None and r.request.state is State.ANSWERED
    assert r.request.acked_at == NOW


@pytest.mark.parametrize(("case", "reason"), [
    ("unknown", Refusal.UNKNOWN_REQUEST),
    ("other device", Refusal.WRONG_DEVICE),
    ("late", Refusal.EXPIRED),
    ("twice", Refusal.ALREADY_ANSWERED),
])
def test_replies_that_do_not_fit_are_refused_with_a_reason(case: str, reason: Refusal) -> None:
    req = pending()
    cmd = req.command()
    reply = result(cmd, 1, "ok")
    device, at = "wm-1", NOW + timedelta(minutes=1)
    target = mark_sent(req, now=NOW)
    if case == "unknown":
        target = None  # type: ignore[assignment]
    elif case == "other device":
        device = "wm-2"
    elif case == "late":
        at = NOW + TTL
    elif case == "twice":
        first = apply_reply(target, device, reply, now=at).request
        assert first is not None
        target = first
    out = apply_reply(target, device, reply, now=at)
    assert not out.accepted and out.refusal is reason and out.detail
    if case == "late":
        assert out.request is not None and out.request.state is State.EXPIRED


def test_a_reply_that_overtakes_the_record_of_sending_still_counts() -> None:
    req = pending()
    a = apply_reply(req, "wm-1", ack(req.command(), 1), now=NOW)
    assert a.accepted and a.request is not None
    assert a.request.state is State.ACKNOWLEDGED and a.request.sent_at == NOW


def test_a_late_duplicate_ack_changes_nothing() -> None:
    req = mark_sent(pending(), now=NOW)
    done = apply_reply(req, "wm-1", result(req.command(), 1, "ok"), now=NOW).request
    assert done is not None
    again = apply_reply(done, "wm-1", ack(req.command(), 2), now=NOW)
    assert again.accepted and again.request == done


def test_an_answer_reads_as_short_findings_for_the_job_page() -> None:
    from devices.diagnostics import findings

    req = mark_sent(pending(), now=NOW)
    snap = {"state": "fault", "firmware": "1.2", "active_errors": ["E21"],
            "readings": {"drain_time": 412.0}}
    done = apply_reply(req, "wm-1", result(req.command(), 1, "ok", snap), now=NOW).request
    assert done is not None
    assert findings(done) == ["state: fault, firmware 1.2", "active errors: E21",
                              "drain_time: 412.0"]
    test = {"passed": False, "checks": [{"name": "drain_time", "ok": False},
                                        {"name": "water_inflow", "ok": True}]}
    done = apply_reply(req, "wm-1", result(req.command(), 1, "ok", test), now=NOW).request
    assert done is not None and findings(done) == ["self-test failed: drain_time"]
    assert findings(req) == []
