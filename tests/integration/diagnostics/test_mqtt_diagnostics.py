"""End to end through a real Mosquitto started with the generated password and ACL files:
the platform (aiomqtt, `fixahead.platform`) asks, a simulated appliance answers as itself."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta

import pytest

from devices import diagnostics_store as store
from devices.commands import encode_reply, result
from devices.diagnostics import State
from simulator.commands import CommandResponder
from tests.support.device_client import Client
from tests.support.diagnostics import (
    PREFIX,
    Setup,
    clogging_washer,
    request,
    wait_state,
)
from tests.support.services import mosquitto_binary

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(mosquitto_binary() is None,
                       reason="needs Mosquitto: apt-get install mosquitto"),
]


def test_a_simulated_appliance_answers_a_snapshot_request(setup: Setup) -> None:
    device = CommandResponder("127.0.0.1", setup.broker.port, [clogging_washer("wm-diag-a")],
                              setup.secrets, prefix=PREFIX, publish_status=True)
    device.start()
    try:
        req = request(setup, "wm-diag-a")
        done = wait_state(setup, req.request_id, State.ANSWERED)
        assert done.state is State.ANSWERED, done
        assert done.sent_at and done.acked_at and done.answered_at and done.status == "ok"
        assert done.result is not None and done.result["model"] == "WM-800"
        assert done.result["readings"]["drain_time"] > 200  # the clogging pump shows
        with setup.conn() as conn:
            assert store.requests_for(conn, incident_id="inc-1")[0].request_id == req.request_id
            trail = conn.execute("SELECT action FROM audit_log WHERE subject_id = 'wm-diag-a'"
                                 ).fetchall()
        assert ("diagnostics.request",) in trail
    finally:
        device.stop()


def test_a_new_request_to_an_online_device_goes_out_at_once(setup: Setup) -> None:
    setup.link.poll_s = 60  # no sweep will come: only the request's NOTIFY can send it
    time.sleep(0.5)
    device = CommandResponder("127.0.0.1", setup.broker.port, [clogging_washer("wm-diag-a")],
                              setup.secrets, prefix=PREFIX, publish_status=True)
    device.start()
    try:
        time.sleep(0.3)
        began = time.monotonic()
        req = request(setup, "wm-diag-a")
        done = wait_state(setup, req.request_id, State.ANSWERED, 5)
        assert done.state is State.ANSWERED
        assert time.monotonic() - began < 3
    finally:
        device.stop()


def test_a_request_to_an_offline_device_waits_then_expires(setup: Setup) -> None:
    req = request(setup, "wm-diag-b", ttl=timedelta(seconds=2))
    time.sleep(0.8)
    with setup.conn() as conn:
        waiting = store.load_request(conn, req.request_id)
    assert waiting is not None and waiting.state is State.PENDING
    assert wait_state(setup, req.request_id, State.EXPIRED, 5).state is State.EXPIRED
    # a device coming online later is not sent the expired request
    device = CommandResponder("127.0.0.1", setup.broker.port, [clogging_washer("wm-diag-b")],
                              setup.secrets, prefix=PREFIX, publish_status=True)
    device.start()
    try:
        time.sleep(1)
        assert device.answered == 0
        assert wait_state(setup, req.request_id, State.EXPIRED, 0).sent_at is None
    finally:
        device.stop()


def test_a_waiting_request_is_sent_when_the_device_comes_online(setup: Setup) -> None:
    req = request(setup, "wm-diag-b", kind="self_test")
    time.sleep(0.6)
    device = CommandResponder("127.0.0.1", setup.broker.port, [clogging_washer("wm-diag-b")],
                              setup.secrets, prefix=PREFIX, publish_status=True)
    device.start()
    try:
        done = wait_state(setup, req.request_id, State.ANSWERED)
        assert done.state is State.ANSWERED and done.result is not None
        assert done.result["passed"] is False  # the drain check fails
    finally:
        device.stop(offline=True)


def test_a_command_the_device_missed_is_sent_again_when_it_comes_back(setup: Setup) -> None:
    # the device says it is online, then drops off without a will: the command is lost
    ghost = Client(setup.broker.port, "wm-diag-b", setup.secrets["wm-diag-b"])
    ghost.publish(f"{PREFIX}/wm-diag-b/status", b'{"state": "online"}')
    time.sleep(0.3)
    req = request(setup, "wm-diag-b")
    assert wait_state(setup, req.request_id, State.SENT, 5).state is State.SENT
    ghost.close()
    device = CommandResponder("127.0.0.1", setup.broker.port, [clogging_washer("wm-diag-b")],
                              setup.secrets, prefix=PREFIX, publish_status=True)
    device.start()
    try:
        assert wait_state(setup, req.request_id, State.ANSWERED).state is State.ANSWERED
        assert setup.link.resent >= 1
    finally:
        device.stop()


def test_the_link_reconnects_after_the_broker_restarts(setup: Setup) -> None:
    setup.broker.stop()
    time.sleep(1.0)
    setup.broker.start()
    device = CommandResponder("127.0.0.1", setup.broker.port, [clogging_washer("wm-diag-a")],
                              setup.secrets, prefix=PREFIX, publish_status=True)
    device.start()
    try:
        req = request(setup, "wm-diag-a")
        assert wait_state(setup, req.request_id, State.ANSWERED, 15).state is State.ANSWERED
        assert setup.link.reconnects >= 1
    finally:
        device.stop()


def test_a_reply_with_an_unknown_id_is_refused_with_a_reason(setup: Setup) -> None:
    device = Client(setup.broker.port, "wm-diag-a", setup.secrets["wm-diag-a"])
    try:
        reply = result(_probe("unknown-request-id"), int(time.time() * 1000), "ok")
        device.publish(f"{PREFIX}/wm-diag-a/replies", encode_reply(reply))
        refused = _wait_refusals(setup, "wm-diag-a")
        assert refused and refused[0]["reason"] == "unknown_request"
        assert refused[0]["request_id"] == "unknown-request-id"
    finally:
        device.close()


def test_another_device_cannot_answer_for_this_one(setup: Setup) -> None:
    req = request(setup, "wm-diag-a", ttl=timedelta(seconds=30))
    with setup.conn() as conn:  # mark it sent as if a's command went out
        store.record_sent(conn, req.request_id, now=datetime.now(UTC))
    forged = encode_reply(result(req.command(), int(time.time() * 1000), "ok", {"x": 1}))
    # the broker's ACL: b may not publish on a's replies topic (the publish never arrives)
    intruder = Client(setup.broker.port, "wm-diag-b", setup.secrets["wm-diag-b"])
    with contextlib.suppress(RuntimeError):
        intruder.publish(f"{PREFIX}/wm-diag-a/replies", forged)
    intruder.close()
    # on its own topic b's reply arrives, and is refused: the request is not b's
    honest_b = Client(setup.broker.port, "wm-diag-b", setup.secrets["wm-diag-b"])
    honest_b.publish(f"{PREFIX}/wm-diag-b/replies", forged)
    honest_b.close()
    refused = _wait_refusals(setup, "wm-diag-b")
    assert [r["reason"] for r in refused] == ["wrong_device"]
    with setup.conn() as conn:
        assert store.refusals(conn, "wm-diag-a") == []
        after = store.load_request(conn, req.request_id)
    assert after is not None and after.state is State.SENT and after.result is None


def _probe(request_id: str):  # type: ignore[no-untyped-def]
    from devices.commands import Command, CommandKind

    return Command(request_id, CommandKind.DIAGNOSTICS_SNAPSHOT, 0, 1)


def _wait_refusals(s: Setup, device_id: str, seconds: float = 5) -> list[dict]:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with s.conn() as conn:
            found = store.refusals(conn, device_id)
        if found:
            time.sleep(0.3)  # let anything that follows arrive too
            with s.conn() as conn:
                return store.refusals(conn, device_id)
        time.sleep(0.1)
    return []


def test_an_answer_that_overtakes_the_record_of_sending_is_kept(setup: Setup) -> None:
    req = request(setup, "wm-diag-a", ttl=timedelta(minutes=1))
    with setup.conn() as conn:  # the device answers before the link marked the request sent
        out = store.store_reply(conn, "wm-diag-a", encode_reply(
            result(req.command(), int(time.time() * 1000), "ok", {"state": "idle"})))
        assert out.accepted and out.state == "answered"
        assert not store.record_sent(conn, req.request_id, now=datetime.now(UTC))
        done = store.load_request(conn, req.request_id)
    assert done is not None and done.state is State.ANSWERED and done.sent_at is not None
