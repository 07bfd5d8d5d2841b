"""A small simulated fleet published through the real broker arrives complete."""

from __future__ import annotations

from collections import Counter

import pytest

from simulator.run import RunSpec, publish_scenario, scenario_for
from simulator.traffic import Traffic
from tests.support.mqtt import Collector
from tests.support.simulation import window

pytestmark = pytest.mark.integration


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

