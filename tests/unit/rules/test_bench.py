"""The benchmark's pieces agree with each other (the benchmark itself is never a test)."""

from __future__ import annotations

import numpy as np

from devices.catalog import load_catalog
from fixahead.lab.bench.rules import interpreted
from rules.compiler import compile_rules
from rules.evaluator import Evaluator
from rules.loader import load_packs
from simulator.readings import fleet


def test_the_interpreted_kernel_source_gives_the_same_transitions_as_the_jit() -> None:
    catalog = load_catalog()
    compiled = compile_rules(load_packs(catalog), catalog)
    data = fleet(50, 3000, seed=3)
    fridge = np.array([m == "FR-300" for m in data["models"]])[data["device"] - 1]
    warm = fridge & (data["metric"] == 1) & (data["ts"] > data["ts"][0] + 100_000)
    data["value"][warm] = 15.0  # cabinet too warm: door_open fires after 15 minutes
    results = []
    for run in (None, interpreted()["evaluate"]):
        ev = Evaluator(compiled)
        ev.assign(data["keys"], data["models"])
        if run is None:
            tr = ev.evaluate(data["ts"], data["device"], data["metric"], data["value"])
            results.append((tr.rule.tolist(), tr.ts_ms.tolist()))
            continue
        o = [col.copy() for col in ev._out.cols]  # noqa: SLF001 - the out columns the kernel gets in production
        _, n = run(data["ts"], data["device"], data["metric"], data["value"], 0, ev.slot_of,
                   ev.slot_model, ev.seen, ev.st, compiled.program, ev.stack, ev.counters, *o)
        results.append((o[1][:n].tolist(), o[2][:n].tolist()))
    assert results[0] == results[1]
    assert len(results[0][0]) > 0
