"""A small simulated fleet published through the real broker arrives complete."""

from __future__ import annotations

import threading
import time
from collections import Counter

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from simulator.mqtt import parse_url
from simulator.run import RunSpec, publish_scenario, scenario_for
from simulator.traffic import Traffic
from tests.unit.simulator.helpers import window

pytestmark = pytest.mark.integration


class Collector:
    """A plain paho subscriber that keeps every (topic, payload) it receives."""

    def __init__(self, url: str, prefix: str) -> None:
        addr = parse_url(url)
        self.got: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{prefix}/#", qos=1)
        self.client.on_subscribe = lambda c, u, mid, rc, p: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect(addr.host, addr.port)
        self.client.loop_start()
        assert self.ready.wait(10), "subscriber did not subscribe"

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.got.append((msg.topic, msg.payload))

    def wait_for(self, n: int, timeout: float = 60) -> list[tuple[str, bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.got) >= n:
                    time.sleep(0.3)  # anything extra (a bug) would show up now
                    return list(self.got)
            time.sleep(0.05)
        raise AssertionError(f"received {len(self.got)} of {n} messages")

    def snapshot(self) -> list[tuple[str, bytes]]:
        with self.lock:
            return list(self.got)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _spec(url: str, prefix: str, **kw: object) -> RunSpec:
    return RunSpec(households=5, window=window(1), seed=17, speed=0, url=url, prefix=prefix,
                   **kw)  # type: ignore[arg-type]


def test_every_message_of_a_small_fleet_reaches_a_subscriber(mqtt_url: str,
                                                             topic_prefix: str) -> None:
    spec = _spec(mqtt_url, topic_prefix, connections=2)
    scenario = scenario_for(spec)
    expected = Counter((m.topic, m.payload) for m in Traffic(scenario, topic_prefix))
    collector = Collector(mqtt_url, topic_prefix)
    try:
        progress = publish_scenario(spec, scenario_for(spec))
        got = collector.wait_for(sum(expected.values()))
    finally:
        collector.close()
    assert progress.published == progress.acked == sum(expected.values())
    assert Counter(got) == expected


def test_devices_can_publish_on_their_own_connections(mqtt_url: str, topic_prefix: str) -> None:
    spec = _spec(mqtt_url, topic_prefix)
    scenario = scenario_for(spec)
    credentials = {d.device_id: f"secret-{d.device_id}" for d in scenario.devices}
    expected = sum(1 for _ in Traffic(scenario, topic_prefix))
    collector = Collector(mqtt_url, topic_prefix)
    try:
        progress = publish_scenario(spec, scenario_for(spec), credentials=credentials)
        got = collector.wait_for(expected)
    finally:
        collector.close()
    assert progress.connections == len(scenario.devices)
    assert len(got) == expected

