"""Run a scenario against a broker: generate traffic chunk by chunk and publish it paced.

Several processes can share a run: each takes a shard of the households (`Shard(i, n)`), plans
the same scenario for its part and publishes it on its own connections, all paced against the
same simulated start and wall-clock start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from devices.catalog import load_catalog
from simulator.plan import Scenario, Shard, plan
from simulator.publisher import FleetPublisher, Pace, Progress
from simulator.timebase import Window
from simulator.traffic import Traffic


@dataclass(frozen=True)
class RunSpec:
    """What to simulate and how to publish it (everything a worker process needs)."""

    households: int
    window: Window
    seed: int
    speed: float
    url: str
    prefix: str = "fixahead/v1"
    tag: str | None = None
    fault_rate: float = 1.0
    network_rate: float = 0.01
    batch_s: float = 1800.0
    connections: int = 2
    window_inflight: int = 20000
    client_prefix: str = "fxsim"


def scenario_for(spec: RunSpec, shard: Shard | None = None) -> Scenario:
    """Plan the spec's scenario (the shard's part of it)."""
    return plan(spec.households, spec.window, spec.seed, load_catalog(),
                fault_rate=spec.fault_rate, network_rate=spec.network_rate, shard=shard,
                tag=spec.tag)


def items(traffic: Traffic) -> Iterator[tuple[str, str, bytes, int]]:
    """(device_id, topic, payload, publish_ms) of every message, in publish order."""
    for chunk in traffic.chunks():
        for m in chunk:
            yield m.device_id, m.topic, m.payload, m.publish_ms
        chunk.clear()  # free it before the next chunk is generated


def publish_scenario(spec: RunSpec, scenario: Scenario, *, wall_start: float | None = None,
                     credentials: Mapping[str, str] | None = None,
                     on_progress: Callable[[Progress], None] | None = None) -> Progress:
    """Generate and publish a scenario; returns the final counters."""
    traffic = Traffic(scenario, spec.prefix, batch_s=spec.batch_s)
    pace = Pace(spec.speed, spec.window.start_ms,
                time.monotonic() if wall_start is None else wall_start)
    shard = scenario.shard
    client_prefix = f"{spec.client_prefix}-{spec.seed}-{shard.index}of{shard.count}"
    with FleetPublisher(spec.url, connections=spec.connections, credentials=credentials,
                        client_prefix=client_prefix, window=spec.window_inflight,
                        prefix=spec.prefix) as pub:
        pub.connect_all([d.device_id for d in scenario.devices])
        return pub.run(items(traffic), pace, on_progress)
