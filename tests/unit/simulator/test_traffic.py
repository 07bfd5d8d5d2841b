"""Traffic: deterministic, usage only while someone is home, encodings the protocol accepts."""

from __future__ import annotations

import numpy as np

from devices import protocol
from simulator.groundtruth import read_ground_truth, write_ground_truth
from simulator.timebase import SLOT_MS
from simulator.traffic import Traffic, encode_binary, seq_base
from simulator.usage import USAGE_STATES
from tests.support.simulation import decoded_events, scenario


def test_the_same_seed_gives_identical_messages_and_ground_truth(tmp_path) -> None:  # type: ignore[no-untyped-def]
    runs = []
    for name in ("a", "b"):
        sc = scenario(6, 2, seed=21, fault_rate=5)
        write_ground_truth(tmp_path / name, sc)
        runs.append([(m.topic, m.payload, m.publish_ms) for m in Traffic(sc)])
    assert runs[0] == runs[1]
    for f in ("run.json", "fleet.json", "faults.jsonl", "network.jsonl", "presence.jsonl"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    other = [(m.topic, m.payload) for m in Traffic(scenario(6, 2, seed=22))]
    assert other != [(t, p) for t, p, _ in runs[0]]


def test_usage_events_happen_only_while_someone_is_home() -> None:
    sc = scenario(12, 4, seed=3)
    owner = {d.device_id: d.household for d in sc.devices}
    usage = [e for e in decoded_events(list(Traffic(sc))) if e[2] == "state" and e[3]
             in USAGE_STATES]
    assert len(usage) > 100
    skews = {f.device_id for f in sc.network if f.kind == "clock_skew"}
    for device_id, ts, _, _ in usage:
        if device_id in skews:
            continue  # its clock is off; the ground truth says by how much
        slots = sc.presence[owner[device_id]]
        slot = (ts - sc.window.first_day * 86_400_000) // SLOT_MS
        assert slots[slot] > 0, f"{device_id} used at {ts} while nobody was home"


def test_every_message_decodes_and_telemetry_uses_catalog_metrics() -> None:
    sc = scenario(6, 1, seed=5)
    ids = {d.device_id: {m.id for m in sc.models[d.model_id].metrics} for d in sc.devices}
    names = {d.device_id: {m.name for m in sc.models[d.model_id].metrics} for d in sc.devices}
    kinds = set()
    for m in Traffic(sc):
        if m.channel == "telemetry":
            t = protocol.decode_telemetry(m.payload, 1000)
            allowed = ids[m.device_id] if protocol.is_binary(m.payload) else names[m.device_id]
            assert set(t.metrics) <= allowed
            kinds.add("binary" if protocol.is_binary(m.payload) else "json")
        elif m.channel == "events":
            protocol.decode_events(m.payload, 1000)
        else:
            protocol.decode_status(m.payload)
    assert kinds == {"binary", "json"}


def test_sequence_numbers_count_up_per_device() -> None:
    sc = scenario(4, 2, seed=9, network_rate=0)
    seqs: dict[str, list[int]] = {}
    for m in Traffic(sc):
        if m.channel != "status":
            seqs.setdefault(m.device_id, []).append(m.seq)
    base = seq_base(sc.window)
    for device_id, got in seqs.items():
        assert sorted(got) == list(range(base, base + len(got))), device_id
    later = scenario(4, 2, seed=9, network_rate=0, start=sc.window.end_ms)
    assert min(m.seq for m in Traffic(later) if m.seq >= 0) > max(max(s) for s in seqs.values())


def test_fast_binary_encoding_matches_the_protocol_encoder() -> None:
    ts = np.array([1000, 1010, 2000], dtype=np.int64)
    mid = np.array([1, 2, 1], dtype=np.int32)
    val = np.array([1.5, -2.25, 3.0])
    ours = encode_binary(7, ts, mid, val)
    ref = protocol.encode_telemetry_binary(protocol.Telemetry(7, ts.tolist(), mid.tolist(),
                                                              val.tolist()))
    assert ours == ref


def test_ground_truth_reads_back_what_was_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(5, 2, seed=4, fault_rate=60)
    write_ground_truth(tmp_path, sc, speed=0)
    truth = read_ground_truth(tmp_path)
    assert truth["run"]["seed"] == 4
    assert {d["device_id"] for d in truth["devices"]} == {d.device_id for d in sc.devices}
    assert len(truth["faults"]) == len(sc.faults) > 0
    assert set(truth["presence"]) == set(sc.presence)
    start_ms, slot_s, minutes = truth["presence"][sc.fleet.households[0].id]
    assert start_ms == sc.window.start_ms and slot_s == 900 and len(minutes) == 2 * 96


def test_shards_together_publish_exactly_the_whole_run() -> None:
    from collections import Counter

    from simulator.plan import Shard

    whole = Counter((m.topic, m.payload) for m in Traffic(scenario(7, 1, seed=8)))
    parts: Counter[tuple[str, bytes]] = Counter()
    for i in range(3):
        parts.update((m.topic, m.payload) for m in Traffic(scenario(7, 1, seed=8,
                                                                    shard=Shard(i, 3))))
    assert parts == whole


def test_encode_run_lists_devices_and_counts_unique_messages_and_samples() -> None:
    from simulator.traffic import encode_run
    from tests.support.simulation import window

    run = encode_run(4, 1, 6, window=window(1), network_rate=0.5)
    assert {d for d, _ in run.devices} >= {t.split("/")[2] for t, _ in run.messages}
    assert run.unique_messages < len(run.messages)  # duplicates and status come on top
    samples = sum(len(protocol.decode_telemetry(p, 10_000).ts_ms) for t, p in run.messages
                  if t.endswith("/telemetry"))
    assert run.samples < samples  # the duplicates' samples are not counted twice


def test_long_batches_are_split_to_keep_within_the_protocol_limits() -> None:
    from devices.protocol import Limits

    limits = Limits()
    sc = scenario(8, 2, seed=4)
    sizes = []
    for m in Traffic(sc, batch_s=6 * 3600):  # six hours of samples per batch
        if m.channel != "telemetry":
            continue
        decoded = protocol.decode_telemetry(m.payload, limits.max_samples)
        assert len(m.payload) <= limits.max_message_bytes
        sizes.append(len(decoded.values))
    assert max(sizes) <= limits.max_samples
    assert sum(1 for n in sizes if n >= 400) > 0  # the split is exercised, not avoided
