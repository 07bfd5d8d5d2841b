"""Faults: gradual ones show a trend well before the hard code; ground truth is consistent."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.appliances import make_appliance
from simulator.faults import MECHANISMS, Fault, draw_fault, fault_events
from simulator.fleet import kind_key
from simulator.sensors import apply_sensor_faults
from simulator.timebase import DAY_MS, MINUTE_MS, Window, rng_for
from simulator.usage import Sessions
from tests.support.simulation import MONDAY, catalog, scenario

DAYS = 24


def daily(hour: float, minutes: float, amount: float, days: int = DAYS) -> Sessions:
    start = MONDAY + np.arange(days, dtype=np.int64) * DAY_MS + int(hour * 3600_000)
    return Sessions(start, np.full(days, minutes * 60.0), np.full(days, amount))


def gradual(model_id: str, mechanism: str, planned_day: float = 20) -> Fault:
    planned = MONDAY + int(planned_day * DAY_MS)
    return Fault("f1", "dev-1", model_id, "gradual", mechanism, None, MONDAY + 2 * DAY_MS, None,
                 None, False, None, None, planned, 1.5)


def series(model_id: str, kind: str, fault: Fault, sessions: Sessions, metric: str
           ) -> tuple[np.ndarray, np.ndarray]:
    model = catalog()[model_id]
    app = make_appliance(kind, model, [fault], rng_for(1, 1))
    ts, vals = [], []
    for d in range(DAYS):
        ts_, mid, val = app.run(MONDAY + d * DAY_MS, MONDAY + (d + 1) * DAY_MS, sessions).arrays()
        keep = mid == model.metric(metric).id
        ts.append(ts_[keep])
        vals.append(val[keep])
    return np.concatenate(ts), np.concatenate(vals)


def _days(ts: np.ndarray) -> np.ndarray:
    return (ts - MONDAY) / DAY_MS


def test_clogging_drain_pump_lengthens_drain_time_a_week_before_e21() -> None:
    fault = gradual("WM-800", "drain_pump_clog")
    ts, drain = series("WM-800", "washer", fault, daily(18, 100, 5), "drain_time")
    day = _days(ts)
    early, week_before = drain[day < 2].mean(), drain[(day > 12) & (day < 13.9)].mean()
    assert week_before > early + 30  # noise is ~3 s
    assert np.corrcoef(day[day > 2], drain[day > 2])[0, 1] > 0.9


def test_worn_compressor_runs_longer_days_before_the_freezer_warms() -> None:
    fault = gradual("FR-300", "compressor_wear")
    ts, duty = series("FR-300", "fridge", fault, daily(8, 0.5, 0), "compressor_duty")
    day = _days(ts)
    assert duty[(day > 14) & (day < 15)].mean() > duty[day < 2].mean() + 8
    ts_f, freezer = series("FR-300", "fridge", fault, daily(8, 0.5, 0), "freezer_temp")
    warm = _days(ts_f)[freezer > -12]
    assert len(warm) and warm.min() > 15  # F2 territory only near the planned failure


def test_scale_lengthens_water_heater_heating_time() -> None:
    fault = gradual("WH-200", "scale")
    ts, minutes = series("WH-200", "waterheater", fault, daily(7, 8, 60), "heating_time")
    day = _days(ts)
    assert minutes[(day > 14) & (day < 18)].mean() > 1.3 * minutes[day < 2].mean()


def test_drawn_gradual_faults_show_symptoms_before_their_hard_failure() -> None:
    sc = scenario(40, 30, seed=2, fault_rate=8)
    gradual_faults = [f for f in sc.faults if f.kind == "gradual" and f.hard_failure_ms]
    assert len(gradual_faults) >= 5
    for f in gradual_faults:
        assert f.first_symptom_ms is not None
        assert f.onset_ms <= f.first_symptom_ms <= f.hard_failure_ms
        assert f.code in {c.code for c in sc.models[f.model_id].codes}
    # equal only when the appliance was not used between the two (say, a vacation)
    early = [f for f in gradual_faults if f.first_symptom_ms < f.hard_failure_ms - DAY_MS]
    assert len(early) >= 0.7 * len(gradual_faults)


def test_fault_events_raise_the_code_at_the_hard_failure() -> None:
    model = catalog()["WM-800"]
    w = Window(MONDAY, MONDAY + 10 * DAY_MS)
    sessions = daily(18, 90, 4, 10)
    for seed in range(40):
        f = draw_fault(rng_for(seed, 3), "f", "dev", "washer", model, w, sessions)
        if f is None or f.kind == "sensor" or f.hard_failure_ms is None:
            continue
        events = fault_events(f)
        assert events[0][1] == "error" and events[0][2] == f.code
        assert events[0][0] == f.hard_failure_ms


def test_sensor_faults_drop_freeze_or_spike_only_their_metric_and_interval() -> None:
    ts = np.arange(0, 100 * MINUTE_MS, MINUTE_MS, dtype=np.int64)
    metric = np.tile(np.array([1, 2], dtype=np.int32), 50)
    value = np.linspace(0, 10, 100)
    ids = {"a": 1, "b": 2}

    def fault(mode: str) -> Fault:
        return Fault("s", "d", "M", "sensor", mode, None, 20 * MINUTE_MS, 20 * MINUTE_MS, None,
                     False, "a", 60 * MINUTE_MS)

    t, _m, _v = apply_sensor_faults([fault("dropout")], ids, ts, metric, value, rng_for(1))
    hit = (ts >= 20 * MINUTE_MS) & (ts < 60 * MINUTE_MS) & (metric == 1)
    assert len(t) == 100 - hit.sum()
    _t, _m, v = apply_sensor_faults([fault("stuck")], ids, ts, metric, value, rng_for(1))
    assert len(set(v[hit].tolist())) == 1
    assert np.array_equal(v[~hit], value[~hit])


def test_dusty_condenser_raises_duty_without_warming_the_freezer() -> None:
    fault = gradual("FR-300", "dusty_condenser")
    ts, duty = series("FR-300", "fridge", fault, daily(8, 0.5, 0), "compressor_duty")
    day = _days(ts)
    assert duty[(day > 17) & (day < 19)].mean() > duty[day < 2].mean() + 8
    _, freezer = series("FR-300", "fridge", fault, daily(8, 0.5, 0), "freezer_temp")
    assert freezer.max() < -12


def test_worn_motor_brushes_draw_more_current_in_the_wash() -> None:
    fault = gradual("WM-800", "motor_brushes")
    ts, amps = series("WM-800", "washer", fault, daily(18, 100, 5), "motor_current")
    day = _days(ts)
    assert amps[(day > 15) & (day < 17)].mean() > 1.2 * amps[day < 2].mean()


def test_ground_truth_fixability_agrees_with_the_catalog_for_every_mechanism() -> None:
    from simulator.faults import pick_code

    for model in catalog().values():
        for mech in MECHANISMS.get(kind_key(model.kind), ()):
            code = pick_code(model, mech)
            entry = next((c for c in model.codes if c.code == code), None)
            if entry is not None and hasattr(entry, "customer_fixable"):
                assert entry.customer_fixable == mech.customer_fixable, (model.id, code)


def test_a_short_demo_window_can_still_have_faults_inside_it() -> None:
    sc = scenario(10, 0.01, seed=4, fault_rate=100_000)
    assert sc.faults
    for f in sc.faults:
        if f.kind in ("sudden", "sensor"):
            assert sc.window.start_ms <= f.onset_ms < sc.window.end_ms


def test_a_heat_pump_runs_cooler_while_nobody_is_home() -> None:
    model = catalog()["HP-900"]
    flows = []
    for away_slots in (slice(0, 0), slice(32, 68)):  # nobody away; away 08:00-17:00
        app = make_appliance("heatpump", model, [], rng_for(2, 2))
        minutes = np.full(96, 15, dtype=np.uint8)
        minutes[away_slots] = 0
        app.presence = (MONDAY, minutes)
        ts, mid, val = app.run(MONDAY, MONDAY + DAY_MS, Sessions(*(np.zeros(0),) * 3)).arrays()
        flow = mid == model.metric("flow_temp").id
        flows.append(val[flow])
    hour = (ts[flow] - MONDAY) / 3600_000
    drop = flows[0] - flows[1]
    assert drop[(hour >= 8) & (hour < 17)].mean() > 3
    assert np.allclose(drop[(hour < 8) | (hour >= 17)], 0)


@pytest.mark.parametrize("kind,mechanism", [
    (kind, m.name) for kind, mechs in MECHANISMS.items() for m in mechs
    if m.kind == "gradual" and m.metric is not None])
def test_every_gradual_mechanism_moves_its_metric_well_beyond_the_early_noise(
        kind: str, mechanism: str) -> None:
    model = next(m for m in catalog().values() if kind_key(m.kind) == kind)
    metric = next(m.metric for m in MECHANISMS[kind] if m.name == mechanism)
    assert metric is not None
    sessions = {"washer": daily(18, 100, 5), "dishwasher": daily(20, 150, 1),
                "dryer": daily(19, 90, 5), "waterheater": daily(7, 8, 60)}.get(
        kind, daily(8, 0.5, 0))
    ts, vals = series(model.id, kind, gradual(model.id, mechanism), sessions, metric)
    day = _days(ts).astype(int)
    # one value a day (a cycle's or a day's mean): the trend a detector would follow
    means = {d: vals[day == d].mean() for d in np.unique(day).tolist()}
    early = np.array([v for d, v in means.items() if d < 3])
    late = np.array([v for d, v in means.items() if 15 <= d < 20])
    assert len(early) and len(late), "the metric must be reported before and near the failure"
    spread = max(early.std(), 0.02 * abs(early.mean()), 1e-6)
    assert abs(late.mean() - early.mean()) > 3 * spread
