"""The engine's event clock follows the low end of a batch's bulk, not its extremes."""

from __future__ import annotations

import numpy as np

from rules.engine import batch_time

HOUR = 3_600_000


def test_one_device_with_a_clock_hours_ahead_does_not_move_the_clock():
    ts = np.array([10_000, 10_010, 10_020, 10_000 + 6 * HOUR], dtype=np.int64)
    assert batch_time(ts, []) == 10_000


def test_events_count_with_the_readings():
    assert batch_time(np.array([], dtype=np.int64), [5_000, 7_000, 9_000]) == 5_000
    assert batch_time(np.array([4_000], dtype=np.int64), [3_000]) == 3_000


def test_a_catching_up_batch_moves_the_clock_only_as_far_as_its_oldest_bulk():
    """A batch committed during a backlog spans hours; the clock takes its low end, so a
    device whose newer messages wait in the next batch does not look silent."""
    rng = np.random.default_rng(1)
    ts = np.sort(rng.integers(0, 17 * HOUR, 5000)).astype(np.int64)
    assert batch_time(ts, []) <= int(np.percentile(ts, 6))


def test_a_silent_device_that_speaks_is_cleared_without_waiting_for_the_clock():
    from devices.catalog import load_catalog
    from rules.compiler import compile_rules
    from rules.engine import Engine
    from rules.loader import load_packs

    catalog = load_catalog()
    engine = Engine(compile_rules(load_packs(catalog), catalog), catalog)
    engine.assign([1, 2], ["FR-300", "FR-300"])
    t0 = 1_767_225_600_000
    one = np.ones(1, np.int64)

    def reading(device: int, t: int) -> list:  # a cabinet temperature
        return engine.process(np.array([t]), np.array([device]), one, np.array([4.0]))

    reading(1, t0)
    opened = []
    for h in range(8):  # the fleet moves on; fridge 1 stays silent
        opened += [(c.incident.device, c.incident.fault) for c in reading(2, t0 + h * HOUR)
                   if c.change == "opened"]
    assert opened == [(1, "C01")]
    reading(1, t0 + 6 * HOUR + 30 * 60_000)  # its backlog: older than the clock, no advance
    flags = engine.evaluator.tbits[:engine.evaluator.n_slots]
    assert not flags.any()


def test_an_outage_shows_even_when_the_backlog_arrives_with_the_fleet_moving_on():
    """A heat pump disconnected for five hours holds its readings and sends them on
    reconnect; they arrive in one batch with the rest of the fleet's newer readings."""
    from devices.catalog import load_catalog
    from rules.compiler import compile_rules
    from rules.engine import Engine
    from rules.loader import load_packs

    catalog = load_catalog()
    engine = Engine(compile_rules(load_packs(catalog), catalog), catalog)
    engine.assign([1, 2], ["HP-900", "HP-900"])
    t0 = 1_767_225_600_000
    minutes = np.arange(0, 8 * 60, 10, dtype=np.int64) * 60_000
    opened = []
    for lo in range(0, 8 * 60, 60):  # hourly batches; device 1 is cut off in hours 1..5
        fleet = [(t0 + m, 2) for m in minutes if lo * 60_000 <= m < (lo + 60) * 60_000]
        own = [] if 1 <= lo // 60 <= 5 else [(t0 + m, 1) for m in minutes
                                               if (60 if lo == 360 else lo) * 60_000 <= m
                                               < (lo + 60) * 60_000]
        rows = np.array(sorted(fleet + own))
        changes = engine.process(rows[:, 0], rows[:, 1], np.ones(len(rows), np.int64),
                                 np.full(len(rows), 35.0))
        opened += [(c.incident.device, c.incident.fault) for c in changes
                   if c.change == "opened"]
    assert opened == [(1, "C01")]
