"""Readings on both sides of a gap in listening are not judged as one sequence (issue 20).

A broker restart loses what devices said while the platform was not listening; a
dishwasher's fill heard before the gap and the next fill heard after it must not add up to
"spray pressure low for 10 minutes" (I20), while a real low pressure, heard through, does.
"""

from __future__ import annotations

import numpy as np
import pytest

from devices.catalog import load_catalog
from rules.compiler import compile_rules
from rules.engine import Engine
from rules.listening import Listening
from rules.loader import load_packs

S = 1000
MIN = 60 * S
T0 = 1_767_225_600_000
SPRAY = 5  # DW-600's spray_pressure metric id


def test_unheard_counts_only_gaps_between_listened_intervals():
    li = Listening(((100, 200), (300, 400), (500, 600)))
    since = np.array([-1.0, 0.0, 150.0, 150.0, 250.0, 350.0, 550.0])
    until = np.array([450.0, 150.0, 250.0, 550.0, 260.0, 380.0, 900.0])
    # never seen: 0; before the first interval: not a known gap; 200-250; 200-300 and 400-500;
    # inside the gap 250-260; inside an interval; after the last: the record may lag
    assert li.unheard(since, until).tolist() == [0.0, 0.0, 50.0, 200.0, 10.0, 0.0, 0.0]


def test_one_interval_has_no_gap():
    assert Listening(((0, 100),)).unheard(np.array([-50.0]), np.array([500.0])).tolist() == [0]


@pytest.fixture(scope="module")
def parts():
    catalog = load_catalog()
    return compile_rules(load_packs(catalog), catalog), catalog


def _engine(parts) -> Engine:
    engine = Engine(*parts)
    engine.assign([1, 2], ["DW-600", "DW-600"])
    return engine


def _spray(engine: Engine, batches: list[list[tuple[int, float]]], record: Listening | None
           ) -> list[tuple[int, str]]:
    """Feed dishwasher 1's spray pressure in batches of (ms, bar); the opened incidents."""
    opened = []
    for batch in batches:
        ts = np.array([t for t, _ in batch], np.int64)
        engine.trust(int(ts.max()) + 1, record)
        changes = engine.process(ts, np.ones(len(batch), np.int32),
                                 np.full(len(batch), SPRAY, np.int16),
                                 np.array([v for _, v in batch]))
        opened += [(c.incident.device, c.incident.fault) for c in changes
                   if c.change == "opened"]
    return opened


def _fill(start: int, minutes: float) -> list[tuple[int, float]]:
    """A programme's fill: 0.1 bar every 30 s."""
    return [(start + k * 30 * S, 0.1) for k in range(int(minutes * 2))]


# the platform listened until minute 5, not for the next 10 minutes (a broker restart that
# lost them), then again
GAP = Listening(((T0 - 60 * MIN, T0 + 5 * MIN), (T0 + 15 * MIN, T0 + 60 * MIN)))


def test_a_fill_on_each_side_of_a_lost_stretch_opens_no_drain_incident(parts):
    before, after = _fill(T0, 5), _fill(T0 + 16 * MIN, 4)
    assert _spray(_engine(parts), [before, after], GAP) == []


def test_the_same_when_both_sides_arrive_in_one_batch(parts):
    assert _spray(_engine(parts), [_fill(T0, 5) + _fill(T0 + 16 * MIN, 4)], GAP) == []


def test_judged_across_the_gap_the_same_readings_open_i20(parts):
    """The cases above can fail: without the listening record the fills add up."""
    assert _spray(_engine(parts), [_fill(T0, 5), _fill(T0 + 16 * MIN, 4)], None) == [(1, "I20")]


def test_a_real_low_pressure_heard_through_still_opens_i20(parts):
    assert _spray(_engine(parts), [_fill(T0 + 16 * MIN, 12)], GAP) == [(1, "I20")]


def test_a_low_pressure_after_the_gap_counts_from_the_gap(parts):
    """The pending duration restarts after the gap: 11 minutes heard after it still open
    the incident, at the reading 10 minutes after the first one after the gap."""
    engine = _engine(parts)
    assert _spray(engine, [_fill(T0, 5), _fill(T0 + 16 * MIN, 9.5)], GAP) == []
    assert _spray(engine, [[(T0 + 26 * MIN, 0.1)]], GAP) == [(1, "I20")]


def test_another_device_heard_through_keeps_its_pending_duration(parts):
    """Only readings that straddle the gap restart: dishwasher 2, heard on both sides of
    nothing unheard, is judged as before."""
    engine = _engine(parts)
    seen = Listening(((T0 - 60 * MIN, T0 + 60 * MIN),))
    ts = np.array([T0 + k * 30 * S for k in range(24)], np.int64)
    engine.trust(int(ts.max()) + 1, seen)
    changes = engine.process(ts, np.full(24, 2, np.int32), np.full(24, SPRAY, np.int16),
                             np.full(24, 0.1))
    assert [(c.incident.device, c.incident.fault) for c in changes
            if c.change == "opened"] == [(2, "I20")]
