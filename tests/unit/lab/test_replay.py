"""fixahead.lab.replay: a planned scenario's devices straight into the rule evaluator."""

from __future__ import annotations

from functools import cache

from fixahead.lab.replay import Replayed, leads, replay_model
from rules.compiler import CompiledRules, compile_rules
from rules.loader import load_packs
from simulator.faults import Fault
from simulator.timebase import DAY_MS
from tests.support.simulation import MONDAY, catalog, scenario


@cache
def standard() -> CompiledRules:
    return compile_rules(load_packs(catalog()), catalog())


def fault(code: str, mechanism: str, failure_day: float | None) -> Fault:
    fail = None if failure_day is None else MONDAY + int(failure_day * DAY_MS)
    return Fault("f1", "d1", "FR-300", "gradual", mechanism, code, MONDAY, fail, fail, False,
                 None, None, fail, 1.5)


def test_the_lead_is_the_first_same_code_rule_before_the_failure() -> None:
    day = lambda d: MONDAY + int(d * DAY_MS)  # noqa: E731
    reps = [
        Replayed("d1", "FR-300", (fault("F2", "compressor_wear", 10),),
                 {"compressor_wearing": day(6), "freezer_warming": day(7.5),
                  "compressor_overworking": day(4)}),
        Replayed("d2", "FR-300", (fault("F9", "dusty_condenser", 8),),
                 {"compressor_overworking": day(9), "compressor_wearing": day(5)}),
        Replayed("d3", "FR-300", (fault("F4", "defrost_fault", None),), {}),
        Replayed("d4", "FR-300", (), {"door_open": day(3)}),
    ]
    by_code, wrong = leads(reps, standard())
    assert by_code == {"F2": [4.0], "F9": [None]}  # F9's only rule came after the failure
    assert sorted(wrong) == [("d1", "compressor_overworking", "compressor_wear"),
                             ("d2", "compressor_wearing", "dusty_condenser"),
                             ("d4", "door_open", "healthy")]


def test_a_rule_id_names_its_own_model_s_code() -> None:
    """`drain_pump_wear` is E21 on a washer and I20 on a dishwasher."""
    clog = Fault("f1", "d1", "DW-600", "gradual", "filter_clog", "I20", MONDAY, MONDAY + DAY_MS,
                 MONDAY + DAY_MS, True, None, None, MONDAY + DAY_MS, 1.5)
    rep = Replayed("d1", "DW-600", (clog,), {"drain_pump_wear": MONDAY + DAY_MS // 2})
    assert leads([rep], standard()) == ({"I20": [0.5]}, [])


def test_a_planned_fleet_replays_each_fridge_once() -> None:
    sc = scenario(households=3, days=2, seed=5)
    fridges = [d.device_id for d in sc.devices if d.model_id == "FR-300"]
    reps = replay_model(sc, "FR-300", standard())
    assert [r.device_id for r in reps] == fridges
    assert all(set(r.first_on) <= {x.id for x in standard().rules} for r in reps)
