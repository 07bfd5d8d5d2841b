"""Simulated appliances answer commands in character."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from devices.catalog import load_catalog
from devices.commands import (
    Command,
    CommandKind,
    ReplyStatus,
    ReplyType,
    encode_command,
)
from simulator.commands import DeviceState, answer
from simulator.faults import Fault
from simulator.timebase import DAY_MS
from simulator.usage import Sessions

T0 = 1_790_000_000_000
CLOG = Fault("f1", "wm-1", "WM-800", "gradual", "drain_pump_clog", "E21", T0, T0 + 5 * DAY_MS,
             T0 + 10 * DAY_MS, True, "drain_time", None, T0 + 10 * DAY_MS, 1.5)


def state(*faults: Fault) -> DeviceState:
    sessions = Sessions(np.array([T0 + DAY_MS, T0 + 2 * DAY_MS], dtype=np.int64),
                        np.array([3600.0, 3600.0]), np.array([5.0, 5.0]))
    return DeviceState("wm-1", load_catalog()["WM-800"], tuple(faults), sessions,
                       started_ms=T0)


def ask(st: DeviceState, kind: CommandKind, now_ms: int, ttl_ms: int = 60_000) -> list:  # type: ignore[type-arg]
    cmd = Command("req-0001-abcd", kind, now_ms, now_ms + ttl_ms)
    return answer(st, encode_command(cmd), now_ms)


def test_a_device_acknowledges_then_answers_with_its_snapshot() -> None:
    ack, res = ask(state(), CommandKind.DIAGNOSTICS_SNAPSHOT, T0 + 3 * DAY_MS)
    assert ack.type is ReplyType.ACK and res.type is ReplyType.RESULT
    assert res.status is ReplyStatus.OK
    assert res.result["model"] == "WM-800" and res.result["state"] == "idle"
    assert res.result["counters"]["cycles"] == 2 and res.result["readings"] == {}


def test_a_clogging_drain_pump_shows_a_long_drain_time_in_its_snapshot() -> None:
    healthy = ask(state(), CommandKind.DIAGNOSTICS_SNAPSHOT, T0 + 8 * DAY_MS)[1].result
    early = ask(state(CLOG), CommandKind.DIAGNOSTICS_SNAPSHOT, T0 + 2 * DAY_MS)[1].result
    late = ask(state(CLOG), CommandKind.DIAGNOSTICS_SNAPSHOT, T0 + 8 * DAY_MS)[1].result
    assert "drain_time" not in healthy["readings"]
    assert late["readings"]["drain_time"] > 2 * early["readings"]["drain_time"]
    assert late["state"] != "fault" and late["active_errors"] == []


def test_after_the_hard_failure_the_snapshot_shows_the_code() -> None:
    snap = ask(state(CLOG), CommandKind.DIAGNOSTICS_SNAPSHOT, T0 + 11 * DAY_MS)[1].result
    assert snap["state"] == "fault" and snap["active_errors"] == ["E21"]
    assert snap["last_errors"][0]["code"] == "E21"


def test_the_self_test_fails_the_drain_check_of_a_clogging_pump() -> None:
    body = ask(state(CLOG), CommandKind.SELF_TEST, T0 + 8 * DAY_MS)[1].result
    drain = next(c for c in body["checks"] if c["name"] == "drain_time")
    assert not drain["ok"] and not body["passed"]
    fine = ask(state(), CommandKind.SELF_TEST, T0 + 8 * DAY_MS)[1].result
    assert fine["passed"]


def test_a_command_received_after_its_expiry_is_not_carried_out() -> None:
    cmd = Command("req-0001-abcd", CommandKind.SELF_TEST, T0, T0 + 1000)
    _, res = answer(state(), encode_command(cmd), T0 + 5000)
    assert res.status is ReplyStatus.EXPIRED and res.result == {}


def test_an_unknown_kind_is_answered_unsupported_and_garbage_not_at_all() -> None:
    payload = b'{"id": "req-0001-abcd", "kind": "reboot", "issued": 1, "expires": 2}'
    replies = answer(state(), payload, T0)
    assert [r.type for r in replies] == [ReplyType.ACK, ReplyType.RESULT]
    assert replies[1].status is ReplyStatus.UNSUPPORTED
    assert answer(state(), b"garbage", T0) == []


def test_a_fridge_fault_shows_in_its_own_metric() -> None:
    fridge = load_catalog()["FR-300"]
    wear = replace(CLOG, device_id="fr-1", model_id="FR-300", mechanism="compressor_wear",
                   code="F2", metric="compressor_duty")
    st = DeviceState("fr-1", fridge, (wear,), None, started_ms=T0)
    snap = ask(st, CommandKind.DIAGNOSTICS_SNAPSHOT, T0 + 9 * DAY_MS)[1].result
    _, hi = fridge.metric("compressor_duty").typical
    assert snap["readings"]["compressor_duty"] > hi


def test_the_simulated_clock_follows_the_pace() -> None:
    import time

    from simulator.commands import sim_clock

    clock = sim_clock(T0, time.monotonic() - 10, 60.0, T0 + DAY_MS)
    assert T0 + 590_000 <= clock() <= T0 + 700_000
    assert sim_clock(T0, time.monotonic() - 1e6, 60.0, T0 + DAY_MS)() == T0 + DAY_MS


def test_a_planned_scenario_gives_every_credentialed_device_a_responder() -> None:
    from simulator.commands import responder_for
    from tests.support.simulation import scenario

    sc = scenario(households=3, days=1, fault_rate=50)
    creds = {d.device_id: "x" for d in sc.devices[:2]}
    r = responder_for(sc, "mqtt://127.0.0.1:1883", creds)
    assert [s.device_id for s in r.states] == [d.device_id for d in sc.devices[:2]]
    assert all(s.model.id == d.model_id for s, d in zip(r.states, sc.devices, strict=False))
    assert r.clients == {}  # nothing connects until start()
