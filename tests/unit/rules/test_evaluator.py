"""The compiled rule set over columnar batches: time-driven rules, checkpoints, baselines."""

from __future__ import annotations

import numpy as np
import pytest

from devices.catalog import load_catalog
from fixahead.lab.bench.vectorized import NumpyEvaluator
from rules.compiler import compile_rules
from rules.evaluator import Evaluator
from rules.loader import load_packs, parse_pack
from simulator.readings import fleet

HOUR = 3_600_000
T0 = 1_767_225_600_000


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def standard(catalog):
    return compile_rules(load_packs(catalog), catalog)


def _ids(compiled, tr) -> list[tuple[int, str, int]]:
    return [(int(d), compiled.rules[r].id, int(on))
            for d, r, on in zip(tr.device, tr.rule, tr.on, strict=True)]


def test_a_silent_fridge_fires_after_its_timeout_and_clears_once_it_speaks(standard) -> None:
    ev = Evaluator(standard)
    ev.assign(np.array([7]), ["FR-300"])
    ev.evaluate(np.array([T0]), np.array([7]), np.array([1]), np.array([4.0]))
    assert _ids(standard, ev.tick(T0 + 6 * HOUR)) == []
    assert _ids(standard, ev.tick(T0 + 6 * HOUR + 1)) == [(7, "fridge_offline", 1)]
    assert _ids(standard, ev.tick(T0 + 7 * HOUR)) == []
    ev.evaluate(np.array([T0 + 8 * HOUR]), np.array([7]), np.array([1]), np.array([4.0]))
    assert _ids(standard, ev.tick(T0 + 8 * HOUR)) == [(7, "fridge_offline", 0)]


def test_error_counts_fire_within_their_window_and_expire_after_it(standard) -> None:
    ev = Evaluator(standard)
    ev.assign(np.array([3]), ["FR-300"])
    times = np.array([T0, T0 + HOUR, T0 + 2 * HOUR])
    tr = ev.errors(times, np.array([3, 3, 3]), ["F7", "F7", "F7"])
    assert _ids(standard, tr) == [(3, "door_left_open_often", 1)]
    assert int(tr.ts_ms[0]) == T0 + 2 * HOUR
    assert _ids(standard, ev.tick(T0 + 24 * HOUR - 1)) == []  # window is (now - 24 h, now]
    assert _ids(standard, ev.tick(T0 + 24 * HOUR)) == [(3, "door_left_open_often", 0)]


def test_late_and_duplicate_readings_are_counted_and_not_fed(standard) -> None:
    ev = Evaluator(standard)
    ev.assign(np.array([1]), ["FR-300"])
    ev.evaluate(np.array([T0 + 2000, T0 + 3000]), np.full(2, 1), np.full(2, 2),
                np.array([-18.0, -18.0]))
    # a later batch: one reading before the watermark, one at it, one new
    ts = np.array([T0 + 1000, T0 + 3000, T0 + 4000])
    ev.evaluate(ts, np.full(3, 1), np.full(3, 2), np.array([99.0, 99.0, -18.0]))
    assert ev.late_samples == 2


def test_a_batch_is_taken_in_time_order_per_device_whatever_its_row_order(standard) -> None:
    """Ingest commits rows by device and metric; a rule over two metrics (the water heater's
    element: no current AND a cold tank, each for an hour) must see them as they happened.
    An ordinary heat-up: idle element, then a big draw drops the tank and the element runs."""
    minutes = np.arange(0, 240, 2)
    ts = T0 + minutes * 60_000
    tank = np.where(minutes < 60, 58.0, 25.0 + 0.24 * np.maximum(0, minutes - 60))
    current = np.where(minutes < 60, 0.0, 8.7)
    rows = [(t, 1, v) for t, v in zip(ts, tank, strict=True)]
    rows += [(t, 3, v) for t, v in zip(ts, current, strict=True)]
    by_time = sorted(rows, key=lambda r: (r[0], r[1]))
    by_metric = sorted(rows, key=lambda r: (r[1], r[0]))
    flips = []
    for order in (by_time, by_metric):
        ev = Evaluator(standard)
        ev.assign(np.array([4]), ["WH-200"])
        a = np.array(order)
        flips.append(_ids(standard, ev.evaluate(a[:, 0].astype(np.int64), np.full(len(a), 4),
                                                 a[:, 1].astype(np.int64), a[:, 2])))
    assert flips[0] == flips[1] == []
    # and a dead element (no current while the tank stays cold) does fire, in either order
    ev = Evaluator(standard)
    ev.assign(np.array([4]), ["WH-200"])
    dead = [(t, m, 0.0 if m == 3 else min(v, 25.0)) for t, m, v in rows]
    a = np.array(sorted(dead, key=lambda r: (r[1], r[0])))
    tr = ev.evaluate(a[:, 0].astype(np.int64), np.full(len(a), 4), a[:, 1].astype(np.int64),
                     a[:, 2])
    assert _ids(standard, tr) == [(4, "element_fault", 1)]


def test_a_freezer_drifting_warm_opens_a_prediction_days_ahead(standard) -> None:
    ev = Evaluator(standard)
    ev.assign(np.array([5]), ["FR-300"])
    ts = T0 + np.arange(0, 6 * 24 * 60, 10, dtype=np.int64) * 60_000  # every 10 min, 6 days
    temp = -19.0 + 1.0 * (ts - T0) / 86_400_000  # +1 °C a day: -12 reached on day 7
    tr = ev.evaluate(ts, np.full(ts.size, 5), np.full(ts.size, 2), temp)
    fired = [(int(t), s) for t, s, r, on in zip(tr.ts_ms, tr.score, tr.rule, tr.on, strict=True)
             if standard.rules[r].id == "freezer_warming" and on]
    assert fired
    t, days = fired[0]
    assert (t - T0) / 86_400_000 < 3  # flagged with more than 4 days to go
    assert 4.0 < days <= 5.0


def test_checkpoint_and_restore_gives_the_same_results_as_an_uninterrupted_run(standard) -> None:
    data = fleet(300, 60_000, seed=4)
    data["value"][::97] += 40.0  # some excitement
    half = data["ts"].size // 2
    cols = ("ts", "device", "metric", "value")

    def run(ev, a, b):
        return ev.evaluate(*(data[c][a:b] for c in cols))

    whole = Evaluator(standard)
    whole.assign(data["keys"], data["models"])
    first = run(whole, 0, half)
    second = run(whole, half, None)
    ticked = whole.tick(int(data["ts"][-1]) + 7 * HOUR)

    before = Evaluator(standard)
    before.assign(data["keys"], data["models"])
    run(before, 0, half)
    saved = before.export(data["keys"])
    after = Evaluator(standard)
    after.assign(data["keys"][::-1].copy(), data["models"][::-1])  # other slots, same devices
    after.restore(saved)
    resumed = run(after, half, None)
    assert len(first) > 0 and len(second) > 0
    for name in ("device", "rule", "ts_ms", "on", "value", "score"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(second, name))
    again = after.tick(int(data["ts"][-1]) + 7 * HOUR)
    assert sorted(_ids(standard, again)) == sorted(_ids(standard, ticked))


def test_numba_and_numpy_evaluators_flip_the_same_rules(standard) -> None:
    data = fleet(200, 40_000, seed=9)
    data["value"][::53] *= 3.0
    ev = Evaluator(standard)
    ev.assign(data["keys"], data["models"])
    tr = ev.evaluate(data["ts"], data["device"], data["metric"], data["value"])
    slot_model = np.array([standard.model_index(m) for m in data["models"]])
    vec = NumpyEvaluator(standard, slot_model)
    n = data["keys"].size
    for r in range(data["rounds"]):
        for i in range(10):
            sl = slice(r * n * 10 + i, (r + 1) * n * 10, 10)
            vec.step(data["ts"][sl], data["device"][sl] - 1,
                     data["metric"][sl].astype(np.int64), data["value"][sl])
    assert len(tr) > 20
    assert vec.transitions == len(tr)


@pytest.mark.parametrize(("text", "message"), [
    ('model = "XX-1"', "wm800.toml: field 'model' must name a catalog model"),
    ('model = "WM-800"\n[[rules]]\nid = "a"\nfault = "E99"', "rule 'a': field 'fault' 'E99'"),
    ('model = "WM-800"\n[[rules]]\nid = "a"\nfault = "E21"\nmeaning = "prediction"\n'
     'severity = "warning"\naction = "technician"\ntitle = "t"\n'
     '[rules.when]\nthreshold = { metric = "spin_speed", above = 3 }',
     "rule 'a': field 'when'.threshold: field 'metric' 'spin_speed' is not a metric of WM-800"),
    ('model = "WM-800"\n[[rules]]\nid = "a"\nfault = "E21"\nmeaning = "prediction"\n'
     'severity = "warning"\naction = "call"\ntitle = "t"\n[rules.when]\nsilent = { for_s = 60 }',
     "rule 'a': field 'action' must be one of self_help, technician"),
    ('model = "WM-800"\n[[rules]]\nid = "a"\nfault = "E21"\nmeaning = "prediction"\n'
     'severity = "warning"\naction = "self_help"\ntitle = "t"\n'
     '[rules.when]\nall = [{ trend = { metric = "drain_time", limit = 300, horizon = 3 } }]',
     r"field 'when'.all\[0\].trend: field 'horizon_days' is missing"),
])
def test_rule_files_are_validated_with_errors_naming_file_rule_and_field(
        catalog, text: str, message: str) -> None:
    import tomllib

    from rules.loader import RuleError

    with pytest.raises(RuleError, match=message):
        parse_pack(tomllib.loads(text), "wm800.toml", catalog)


def test_the_silent_kernel_matches_its_reference_over_random_traffic(catalog) -> None:
    import tomllib

    from tests.support import naive

    doc = tomllib.loads(
        'model = "FR-300"\n[[rules]]\nid = "quiet"\nfault = "F2"\nmeaning = "prediction"\n'
        'severity = "warning"\naction = "self_help"\ntitle = "t"\n'
        '[rules.when]\nsilent = { for_s = 1800 }')
    compiled = compile_rules(parse_pack(doc, "x.toml", catalog), catalog)
    rng = np.random.default_rng(8)
    ev = Evaluator(compiled)
    keys = np.arange(1, 21)
    ev.assign(keys, ["FR-300"] * keys.size)
    seen: dict[int, list[int]] = {int(k): [] for k in keys}
    now = T0
    for _ in range(60):
        n = int(rng.integers(0, 8))
        dev = rng.choice(keys, n)
        ts = now + np.sort(rng.integers(0, 600_000, n))
        ev.evaluate(ts, dev, np.ones(n, np.int64), rng.normal(4, 1, n))
        for d, t in zip(dev.tolist(), ts.tolist(), strict=True):
            seen[d].append(t)
        now += int(rng.integers(0, 2 * 1_800_000))
        ev.tick(now)
        flags = ev.st[ev.slots(keys), compiled.program.pred_off[0]] != 0.0
        want = [naive.silent(seen[int(k)], now, 1_800_000) for k in keys]
        assert flags.tolist() == want


def test_a_rule_sees_all_predicates_of_a_reading_updated_together(standard) -> None:
    """The washer's inlet rule: inflow under 6 l/min AND over 0.5 l/min for a minute. When a
    healthy fill ends, one reading (0 l/min) turns 'under 6' on and 'over 0.5' off at once:
    the rule must not fire in between."""
    def fill(rate: float, t0: int) -> list[tuple[int, float]]:
        return ([(t0 + k * 10_000, 0.0) for k in range(6)]
                + [(t0 + (6 + k) * 10_000, rate) for k in range(12)]
                + [(t0 + (18 + k) * 10_000, 0.0) for k in range(6)])

    inflow = 2  # WM-800 water_inflow
    for rate, fires in ((10.0, []), (4.0, [(5, "inlet_filter_clogging", 1)])):
        rows = np.array(fill(rate, T0))
        ev = Evaluator(standard)
        ev.assign(np.array([5]), ["WM-800"])
        tr = ev.evaluate(rows[:, 0].astype(np.int64), np.full(len(rows), 5),
                         np.full(len(rows), inflow), rows[:, 1])
        assert [f for f in _ids(standard, tr) if f[2] == 1] == fires
        npe = NumpyEvaluator(standard, np.array([standard.models.index("WM-800")]))
        for t, v in rows:
            npe.step(np.array([int(t)]), np.array([0]), np.array([inflow]), np.array([v]))
        assert npe.transitions == len(_ids(standard, tr))


def test_numba_and_numpy_evaluators_agree_on_rate_while(catalog) -> None:
    """Heat-ups of 60 tanks, some slowing, sampled together every 2 minutes (tank_temp first,
    as the WH-200 sends them): both engines flip the same rate_while rules."""
    import tomllib

    doc = tomllib.loads(
        'model = "WH-200"\n[[rules]]\nid = "slow"\nfault = "W10"\nmeaning = "prediction"\n'
        'severity = "warning"\naction = "technician"\ntitle = "t"\n[rules.when]\n'
        'rate_while = { metric = "tank_temp", gate = "element_current", gate_above = 4.0, '
        'below = 0.18, clear = 0.2, per = "minute", window_s = 21600, min_samples = 12, '
        'max_samples = 24 }\n'
        '[[rules]]\nid = "fast"\nfault = "W10"\nmeaning = "prediction"\n'
        'severity = "warning"\naction = "technician"\ntitle = "t"\n[rules.when]\n'
        'rate_while = { metric = "tank_temp", gate = "element_current", gate_above = 4.0, '
        'above = 0.26, clear = 0.25, per = "minute", window_s = 7200, min_samples = 5, '
        'max_samples = 8 }\n')
    compiled = compile_rules(parse_pack(doc, "wh200.toml", catalog), catalog)
    wh = catalog["WH-200"]
    temp, cur = wh.metric("tank_temp").id, wh.metric("element_current").id
    rng = np.random.default_rng(5)
    n_dev, steps = 60, 2000
    on = (np.arange(steps)[None, :] + rng.integers(0, 30, (n_dev, 1))) % 30 < 12
    slope = np.linspace(0.34, 0.6, n_dev)[:, None] * np.linspace(1.0, 0.55, steps)[None, :]
    rise = np.where(on, slope * rng.uniform(0.7, 1.3, (n_dev, steps)), -0.1)
    temps = 50.0 + np.cumsum(rise, axis=1) + rng.normal(0, 0.05, (n_dev, steps))
    amps = np.where(on, 8.5, 0.0) + rng.normal(0, 0.1, (n_dev, steps))
    t = T0 + np.arange(steps, dtype=np.int64) * 120_000
    keys = np.arange(1, n_dev + 1)
    # per device, in time order: tank_temp then element_current at each sample
    ts = np.repeat(np.tile(t, n_dev), 2)
    dev = np.repeat(np.repeat(keys, steps), 2).astype(np.int32)
    met = np.tile([temp, cur], n_dev * steps).astype(np.int16)
    val = np.stack([temps.ravel(), amps.ravel()], axis=1).ravel()
    ev = Evaluator(compiled)
    ev.assign(keys, ["WH-200"] * n_dev)
    tr = ev.evaluate(ts, dev, met, val)
    vec = NumpyEvaluator(compiled, np.zeros(n_dev, np.int64))  # slot = key - 1
    for k in range(2 * steps):  # one reading per device a step, in each device's order
        sl = slice(k, None, 2 * steps)
        vec.step(ts[sl], dev[sl].astype(np.int64) - 1, met[sl].astype(np.int64), val[sl])
    rules = {compiled.rules[r].id for r in tr.rule.tolist()}
    assert rules == {"slow", "fast"} and len(tr) > 40
    assert vec.transitions == len(tr)
