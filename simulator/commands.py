"""Simulated appliances answer the platform's diagnostics commands, in character.

`answer(state, command, now_ms)` is pure: the receipt, then the result, from what the device
knows of itself at `now_ms` (its faults' severity, its usage, the codes it has raised). A
clogging drain pump shows a long drain time in its snapshot and fails the drain check of its
self-test. `CommandResponder` connects each device as itself (user = device id) with paho,
subscribes to its own commands topic and publishes the answers on its replies topic; it runs
beside the fleet publisher, on connections of its own (client id `<prefix>-cmd-<device>`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices import protocol
from devices.catalog import Model
from devices.commands import (
    Command,
    CommandError,
    CommandKind,
    Reply,
    ReplyStatus,
    ack,
    decode_command,
    encode_reply,
    peek_request_id,
    result,
)
from devices.topics import topic_for
from simulator.appliances.washer import E21_DRAIN_S
from simulator.faults import MECHANISMS, Fault, fault_events, severity
from simulator.usage import Sessions

log = logging.getLogger(__name__)
# metrics that fall (rather than rise) as their fault develops
FALLS = frozenset({"water_inflow", "low_pressure", "spray_pressure"})


@dataclass(frozen=True)
class DeviceState:
    """What a simulated device knows about itself."""

    device_id: str
    model: Model
    faults: tuple[Fault, ...] = ()
    sessions: Sessions | None = None
    firmware: str = "1.0.0"
    started_ms: int = 0


def _reading(model: Model, metric: str, sev: float) -> float:
    m = next((x for x in model.metrics if x.name == metric), None)
    if m is None:
        return float("nan")
    if metric == "drain_time":  # the washer's own physics: drain time grows to the E21 limit
        lo = sum(m.typical) / 2 * 0.8
        return round(lo + (E21_DRAIN_S - lo) * sev, 1)
    lo, hi = m.typical
    mid, span = (lo + hi) / 2, (hi - lo)
    value = mid - span * 0.8 * sev if metric in FALLS else mid + span * 2.0 * sev
    return round(float(np.clip(value, *m.valid)), 2)


def _codes(state: DeviceState, now_ms: int) -> tuple[list[dict[str, object]], set[str]]:
    events = sorted(e for f in state.faults for e in fault_events(f) if e[0] <= now_ms)
    active: set[str] = set()
    for _, kind, code in events:
        (active.add if kind == "error" else active.discard)(code)
    raised = [{"code": c, "ts": t} for t, k, c in reversed(events) if k == "error"]
    return raised[:5], active


def snapshot(state: DeviceState, now_ms: int) -> dict[str, object]:
    """The device's diagnostics snapshot at `now_ms`."""
    last, active = _codes(state, now_ms)
    running = False
    cycles = 0
    if state.sessions is not None and len(state.sessions):
        s = state.sessions
        started = s.start_ms <= now_ms
        cycles = int(started.sum())
        running = bool(np.any(started & (s.start_ms + s.duration_s * 1000 > now_ms)))
    readings: dict[str, float] = {}
    for f in state.faults:
        if f.kind == "gradual" and f.metric:
            readings[f.metric] = _reading(state.model, f.metric, float(severity(f, now_ms)))
    return {"state": "fault" if active else ("running" if running else "idle"),
            "model": state.model.id, "firmware": state.firmware,
            "counters": {"cycles": cycles,
                         "hours_on": round(max(0, now_ms - state.started_ms) / 3.6e6, 1),
                         "errors": len(last)},
            "active_errors": sorted(active), "last_errors": last, "readings": readings}


def self_test(state: DeviceState, now_ms: int) -> tuple[bool, dict[str, object]]:
    """(passed, body): one check per metric a known mechanism of this kind watches."""
    _, active = _codes(state, now_ms)
    kind = "".join(ch for ch in state.model.kind.lower() if ch.isalnum())
    watched = sorted({m.metric for m in MECHANISMS.get(kind, ()) if m.metric})
    checks = []
    for metric in watched:
        worst = 0.0
        for f in state.faults:
            if f.metric == metric and f.kind == "gradual":
                worst = max(worst, float(severity(f, now_ms)))
        mech = next((m for m in MECHANISMS.get(kind, ()) if m.metric == metric), None)
        limit = mech.visible_at if mech is not None else 0.15
        checks.append({"name": metric, "ok": worst < limit,
                       "value": _reading(state.model, metric, worst)})
    for code in sorted(active):
        checks.append({"name": f"code {code}", "ok": False})
    passed = all(c["ok"] for c in checks)
    return passed, {"passed": passed, "checks": checks}


def answer(state: DeviceState, payload: bytes, now_ms: int) -> list[Reply]:
    """The replies to one command payload: the receipt, then the result."""
    try:
        cmd: Command = decode_command(payload)
    except CommandError as exc:
        request_id = peek_request_id(payload)
        if request_id is None or exc.reason != "unsupported":
            return []  # nothing to answer to
        probe = Command(request_id, CommandKind.SELF_TEST, now_ms, now_ms + 1)
        return [ack(probe, now_ms), result(probe, now_ms, ReplyStatus.UNSUPPORTED,
                                           {"detail": exc.detail})]
    if cmd.expired(now_ms):
        return [ack(cmd, now_ms), result(cmd, now_ms, ReplyStatus.EXPIRED)]
    if cmd.kind is CommandKind.DIAGNOSTICS_SNAPSHOT:
        body = snapshot(state, now_ms)
        return [ack(cmd, now_ms), result(cmd, now_ms, ReplyStatus.OK, body)]
    _, body = self_test(state, now_ms)
    return [ack(cmd, now_ms), result(cmd, now_ms, ReplyStatus.OK, body)]


def _wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class CommandResponder:
    """Answer commands for a set of devices over MQTT, each device connected as itself."""

    host: str
    port: int
    states: Sequence[DeviceState]
    credentials: Mapping[str, str]
    prefix: str = "fixahead/v1"
    clock: Callable[[], int] = _wall_ms
    client_prefix: str = "fxsim"
    publish_status: bool = False  # standalone devices announce themselves online
    clients: dict[str, mqtt.Client] = field(default_factory=dict)
    answered: int = 0

    def _on_message(self, state: DeviceState) -> Callable[..., None]:
        def handle(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
            for reply in answer(state, bytes(msg.payload), self.clock()):
                client.publish(topic_for(self.prefix, state.device_id, "replies"),
                               encode_reply(reply), qos=1)
            self.answered += 1
        return handle

    def start(self, timeout: float = 10.0) -> None:
        """Connect and subscribe every device; return once all are subscribed."""
        subscribed = []
        for state in self.states:
            secret = self.credentials.get(state.device_id)
            if secret is None:
                continue
            # a device has one identity: the broker accepts it only under its own client id
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=state.device_id)
            c.username_pw_set(state.device_id, secret)
            status = topic_for(self.prefix, state.device_id, "status")
            if self.publish_status:
                c.will_set(status, protocol.encode_status(protocol.Status(False)), 1, True)
            done: list[int] = []
            subscribed.append(done)
            commands = topic_for(self.prefix, state.device_id, "commands")

            def on_connect(client: mqtt.Client, u: object, f: object, rc: object, p: object,
                           topic: str = commands, status_topic: str = status) -> None:
                client.subscribe(topic, qos=1)
                if self.publish_status:
                    client.publish(status_topic, protocol.encode_status(protocol.Status(True)),
                                   qos=1, retain=True)

            c.on_connect = on_connect
            c.on_subscribe = lambda *a, d=done: d.append(1)
            c.on_message = self._on_message(state)
            c.connect(self.host, self.port)
            c.loop_start()
            self.clients[state.device_id] = c
        deadline = time.monotonic() + timeout
        while not all(subscribed) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not all(subscribed):
            raise TimeoutError("not every device subscribed to its commands in time")

    def stop(self, *, offline: bool = False) -> None:
        """Disconnect every device (publishing the offline status first when asked)."""
        for device_id, c in self.clients.items():
            if offline and self.publish_status:
                c.publish(topic_for(self.prefix, device_id, "status"),
                          protocol.encode_status(protocol.Status(False)), qos=1,
                          retain=True).wait_for_publish(5)
            c.disconnect()
            c.loop_stop()
        self.clients.clear()


def states_for(devices: Sequence[tuple[str, str]], models: Mapping[str, Model],
               faults: Sequence[Fault], sessions: Mapping[str, Sessions] | None = None,
               started_ms: int = 0) -> list[DeviceState]:
    """Device states from (device id, model id) pairs and a scenario's faults and sessions."""
    by_device: dict[str, list[Fault]] = {}
    for f in faults:
        by_device.setdefault(f.device_id, []).append(f)
    return [DeviceState(d, models[m], tuple(by_device.get(d, ())),
                        (sessions or {}).get(d), started_ms=started_ms) for d, m in devices]


def sim_clock(sim_start_ms: int, wall_start: float, speed: float,
              end_ms: int) -> Callable[[], int]:
    """Simulated epoch ms now, for a run paced at `speed` from (`sim_start_ms`, monotonic
    `wall_start`); speed <= 0 (as fast as possible) runs up to the present: wall-clock time."""
    if speed <= 0:
        return _wall_ms

    def now() -> int:
        return min(end_ms, sim_start_ms + int((time.monotonic() - wall_start) * 1000 * speed))
    return now


def responder_for(scenario: Any, url: str, credentials: Mapping[str, str], *,
                  prefix: str = "fixahead/v1", clock: Callable[[], int] = _wall_ms,
                  limit: int = 200, publish_status: bool = True) -> CommandResponder:
    """A responder for a planned scenario's devices (the first `limit` with credentials:
    one paho connection and thread each, meant for demos and tests, not whole fleets).
    Its connections announce the devices online (retained, with an offline will): the fleet
    publisher's own connections do not, and the platform sends commands only to devices it
    knows to be online."""
    from simulator.mqtt import parse_url

    broker = parse_url(url)
    devices = [(d.device_id, d.model_id) for d in scenario.devices
               if d.device_id in credentials][:limit]
    states = states_for(devices, scenario.models, scenario.faults, scenario.sessions,
                        scenario.window.start_ms)
    return CommandResponder(broker.host, broker.port, states, credentials, prefix=prefix,
                            clock=clock, publish_status=publish_status)


def publish_answering(spec: Any, scenario: Any, *, credentials: Mapping[str, str],
                      wall_start: float | None = None,
                      on_progress: Callable[..., None] | None = None, limit: int = 200) -> Any:
    """`simulator.run.publish_scenario`, with the scenario's devices answering commands
    (in simulated time) for as long as it publishes."""
    from simulator.run import publish_scenario

    wall_start = time.monotonic() if wall_start is None else wall_start
    clock = sim_clock(spec.window.start_ms, wall_start, spec.speed, spec.window.end_ms)
    responder = responder_for(scenario, spec.url, credentials, prefix=spec.prefix, clock=clock,
                              limit=limit)
    responder.start()
    try:
        # the devices' own connections are the responder's (one per device, as a broker that
        # pins client ids allows); the readings go on `spec.url`'s account
        return publish_scenario(spec, scenario, wall_start=wall_start, on_progress=on_progress)
    finally:
        responder.stop(offline=True)
