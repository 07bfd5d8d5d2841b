"""Network trouble in the traffic matches what the ground truth declares."""

from __future__ import annotations

from collections import Counter

from devices import protocol
from simulator.network import NetworkFault
from simulator.plan import Scenario
from simulator.timebase import window_ending_now
from simulator.traffic import Traffic
from tests.support.simulation import scenario


def _with_network(sc: Scenario, faults: list[NetworkFault]) -> Scenario:
    return Scenario(sc.seed, sc.window, sc.fleet, sc.models, sc.shard, sc.presence, sc.sessions,
                    sc.faults, faults, sc.devices)


def test_declared_duplicates_are_delivered_twice_and_nothing_else_is() -> None:
    sc = scenario(6, 2, seed=13, network_rate=0.5)
    dups = [f for f in sc.network if f.kind == "duplicates"]
    assert dups
    messages = list(Traffic(sc))
    counts = Counter((m.device_id, m.channel, m.seq) for m in messages if m.channel != "status")
    twice = {k for k, n in counts.items() if n == 2}
    assert max(counts.values()) <= 2
    expected = {(m.device_id, m.channel, m.seq) for m in messages if m.channel != "status"
                and any(f.device_id == m.device_id and f.start_ms <= m.created_ms < f.end_ms
                        for f in dups)}
    assert twice == expected and twice
    copies = [m for m in messages if m.duplicate]
    assert all(m.payload == next(o.payload for o in messages if not o.duplicate and
                                 (o.device_id, o.seq) == (m.device_id, m.seq)) for m in copies)


def test_a_disconnect_holds_messages_and_releases_them_as_a_burst_on_reconnect() -> None:
    sc = scenario(3, 2, seed=5, network_rate=0)
    device = sc.devices[0].device_id
    start, end = sc.window.start_ms + 6 * 3600_000, sc.window.start_ms + 14 * 3600_000
    sc = _with_network(sc, [NetworkFault(device, "disconnect", start, end)])
    mine = [m for m in Traffic(sc) if m.device_id == device]
    held = [m for m in mine if start <= m.created_ms < end and m.channel != "status"]
    assert held and all(m.publish_ms == end for m in held)
    assert all(m.publish_ms == m.created_ms for m in mine
               if not start <= m.created_ms < end and m.channel != "status")
    status = [(m.publish_ms, protocol.decode_status(m.payload).online) for m in mine
              if m.channel == "status"]
    assert status == [(start, False), (end, True)]


def test_clock_skew_shifts_the_device_timestamps_by_the_declared_offset() -> None:
    sc = scenario(3, 1, seed=5, network_rate=0)
    device = next(d for d in sc.devices if d.kind == "fridge").device_id
    plain = {m.seq: m for m in Traffic(sc) if m.device_id == device}
    skewed = _with_network(scenario(3, 1, seed=5, network_rate=0),
                           [NetworkFault(device, "clock_skew", sc.window.start_ms,
                                         sc.window.end_ms, 90_000)])
    for m in Traffic(skewed):
        if m.device_id == device and m.channel == "telemetry":
            a = protocol.decode_telemetry(plain[m.seq].payload, 1000).ts_ms
            b = protocol.decode_telemetry(m.payload, 1000).ts_ms
            assert [y - x for x, y in zip(a, b, strict=True)] == [90_000] * len(a)


def test_a_run_at_any_speed_never_has_timestamps_in_the_future() -> None:
    now = 1_800_000_000_000
    for speed in (0, 1, 60, 1440):
        w = window_ending_now(2, speed, now)
        wall_end = now + (0 if speed == 0 else (w.end_ms - w.start_ms) / speed)
        assert w.end_ms <= wall_end + 1
        if speed:
            # at every moment of the run, simulated time is at most wall time
            for frac in (0.0, 0.5, 1.0):
                sim = w.start_ms + frac * (w.end_ms - w.start_ms)
                wall = now + frac * (w.end_ms - w.start_ms) / speed
                assert sim <= wall  # aligning the start to a slot only moves it back
