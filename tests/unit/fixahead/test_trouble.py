"""Injected platform trouble: held or lost messages, the clock, and what the recorder hears."""

from __future__ import annotations

from fixahead.lab.evaluation.storms import across_seeds, max_in_window
from fixahead.lab.trouble import SimClock, Trouble, TroubleSpec
from fixahead.listening import Bounds, Health, ListeningRecorder, healthy

MIN = 60_000


def _stream(n: int) -> list[tuple[str, str, bytes, int]]:
    return [("d", "t", b"", m * MIN) for m in range(n)]


def test_an_ingest_outage_holds_its_window_and_a_restart_loses_it():
    beats: list[tuple[int, bool]] = []
    clock = SimClock(0)
    t = Trouble(TroubleSpec(ingest_outage_min=10, broker_restart_min=5, at=0.1), 0, 100 * MIN,
                clock, lambda ms, ok: beats.append((ms, ok)))
    out = [item[3] // MIN for item in t.apply(_stream(100))]
    assert out[:10] == list(range(10)) and out[10:20] == list(range(10, 20))  # held, in order
    assert 30 not in out and 34 not in out and 35 in out  # lost at 30-35 (at 0.1 + 0.2)
    assert (t.held, t.lost) == (10, 5)
    assert beats == [(10 * MIN, True), (10 * MIN, False), (20 * MIN, True), (30 * MIN, True),
                     (30 * MIN, False), (35 * MIN, True)]
    assert clock.now_ms() == 99 * MIN


def test_the_recorder_ends_an_interval_on_trouble_and_after_a_stall():
    rec = ListeningRecorder("x", max_gap_ms=10)
    for ms, ok in [(0, True), (5, True), (10, False), (12, True), (20, True), (40, True)]:
        rec.beat(None, ms, ok)
    assert rec.intervals == [(0, 5), (12, 20), (40, 40)]


def test_healthy_asks_for_connected_committing_caught_up_and_current():
    ok = Health(connected=True, committing=True, backlog_s=1, data_lag_s=10, rules_current=True)
    assert healthy(ok)
    assert not healthy(Health(True, True, 1, 900, True))
    assert healthy(Health(True, True, 1, 900, True), Bounds(max_data_lag_s=None))
    assert not healthy(Health(False, True, 1, 10, True))
    assert not healthy(Health(True, True, 120, 10, True))


def test_bursts_and_seeds():
    assert max_in_window([0, 1, 2, 10, 11], 5) == 3
    docs = [{"detection": {"false_alarms_per_1000_device_days": v, "recall_before_failure": r,
                           "median_lead_days": 3.0},
             "robustness": {"max_burst_10min": b, "emails_in_trouble_window": 0},
             "config": {"seed": s}} for s, v, r, b in [(1, 0.5, 0.9, 3), (2, 1.5, 0.7, 9),
                                                         (3, 0.7, 0.8, 4)]]
    summary = across_seeds(docs)
    assert summary["false_alarms_per_1000_device_days"]["worst"] == 1.5
    assert summary["false_alarms_per_1000_device_days"]["median"] == 0.7
    assert summary["recall_before_failure"]["worst"] == 0.7
    assert summary["max_burst_10min"]["worst"] == 9
