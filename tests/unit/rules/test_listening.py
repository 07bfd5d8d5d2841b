"""Silence is judged only over the time the platform listened; the clock stays trusted."""

from __future__ import annotations

import numpy as np
import pytest

from devices.catalog import load_catalog
from rules.compiler import compile_rules
from rules.engine import Engine
from rules.listening import Listening, merge
from rules.loader import load_packs

MIN = 60_000
HOUR = 60 * MIN
T0 = 1_767_225_600_000


def test_overlapping_intervals_merge():
    assert merge([(5, 9), (0, 3), (2, 4), (9, 12), (20, 20)]) == [(0, 4), (5, 12)]


def test_credit_is_the_unlistened_time_since_each_last_reading():
    li = Listening(((0, 100), (150, 300)))
    credit = li.credit(np.array([-1.0, 0.0, 120.0, 200.0, 400.0]), 350)
    # never seen: nothing; from 0: gap 100-150 and 300-350; from 120: 120-150 and 300-350;
    # from 200: 300-350; a time after now counts from now
    assert credit.tolist() == [0.0, 100.0, 80.0, 50.0, 0.0]


def test_no_record_means_nothing_was_listened():
    assert Listening().credit(np.array([10.0]), 110).tolist() == [100.0]


@pytest.fixture(scope="module")
def parts():
    catalog = load_catalog()
    return compile_rules(load_packs(catalog), catalog), catalog


def _fleet(parts, n: int) -> Engine:
    engine = Engine(*parts)
    engine.assign(list(range(n)), ["FR-300"] * n)
    return engine


def _readings(engine: Engine, devices: list[int], t: int) -> list:
    """One cabinet temperature per device at t; the opened incidents."""
    n = len(devices)
    changes = engine.process(np.full(n, t, np.int64), np.array(devices, np.int32),
                             np.ones(n, np.int16), np.full(n, 4.0))
    return [(c.incident.device, c.incident.fault) for c in changes if c.change == "opened"]


def _outage(parts, listening: bool) -> list:
    """200 fridges every 10 minutes; ingest hears nothing for 7 hours (their messages are
    lost), longer than the fridges' 6-hour offline rule, then the fleet is heard again."""
    engine = _fleet(parts, 200)
    fleet = list(range(200))
    record = Listening(((T0 - HOUR, T0 + 2 * HOUR),))
    opened = []
    for m in range(0, 14 * 60, 10):
        t = T0 + m * MIN
        if 2 * 60 <= m < 9 * 60:
            continue  # the outage: nothing reaches the platform
        if m >= 9 * 60:
            record = record.with_interval(T0 + 9 * HOUR, t + 1)
        engine.trust(t + 1, record if listening else None)
        opened += _readings(engine, fleet, t)
    return opened


def test_an_outage_of_ours_opens_no_offline_incident(parts):
    assert _outage(parts, listening=True) == []


def test_without_the_listening_record_the_same_outage_is_a_storm(parts):
    """The case above can fail: judged on raw event time, every fridge looks offline."""
    assert len(_outage(parts, listening=False)) == 200


def test_a_real_disconnect_still_opens_its_incident_on_time(parts):
    engine = _fleet(parts, 50)
    opened_at = []
    for m in range(0, 10 * 60, 10):
        t = T0 + m * MIN
        engine.trust(t + 1, Listening(((T0 - HOUR, t + 1),)))
        talking = list(range(50)) if m < 60 else list(range(1, 50))  # fridge 0 goes at 1 h
        for c in engine.process(np.full(len(talking), t, np.int64),
                                np.array(talking, np.int32), np.ones(len(talking), np.int16),
                                np.full(len(talking), 4.0)):
            if c.change == "opened":
                opened_at.append((c.incident.device, c.incident.fault, c.incident.opened_ms))
    [(device, fault, at)] = opened_at
    assert (device, fault) == (0, "C01")
    # last heard at 50 min; the rule's 6 h pass at 6 h 50; the next batch is at 7 h
    assert at == T0 + 7 * HOUR


def test_the_clock_never_passes_the_trusted_clock(parts):
    """A device hours ahead, or the last small batch of a stream, cannot move it."""
    engine = _fleet(parts, 20)
    engine.trust(T0 + MIN)
    _readings(engine, list(range(20)), T0)
    _readings(engine, [3], T0 + 7 * HOUR)  # the only message of the stream's last batch
    assert engine.now_ms == T0 + MIN
    assert engine.tick(T0 + 9 * HOUR) == []
    assert engine.now_ms == T0 + MIN


def test_a_clock_restored_ahead_of_trusted_time_goes_back_to_it(parts):
    """A second run of the same window restores the first run's checkpoint, whose clock is
    at the window's end: the new run's outages must still show."""
    engine = _fleet(parts, 2)
    engine.now_ms = T0 + 30 * 24 * HOUR
    opened = []
    for m in range(0, 8 * 60, 10):
        t = T0 + m * MIN
        engine.trust(t + 1, Listening(((T0, t + 1),)))
        opened += _readings(engine, [0, 1] if m < 60 else [1], t)  # fridge 0 goes quiet
    assert (0, "C01") in opened
