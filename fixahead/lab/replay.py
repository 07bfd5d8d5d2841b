"""Offline replay of one model's devices from a planned scenario straight into the rule
evaluator: no broker, no database, seconds instead of minutes. For tuning rules on the
simulator's physics (per-code lead before the hard failure, alarms on the wrong devices).

The scenario is the one `fixahead evaluate --households N --days D --seed S --end E` plays
(same fleet, faults, sessions and physics streams); readings go to the evaluator a day at a
time, each fault's error code just after the readings before it, as the appliance raises it.
A rule's first turn-on stands for the incident it would open.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rules.compiler import CompiledRules
from rules.evaluator import Evaluator, Transitions
from simulator.appliances import make_appliance
from simulator.faults import Fault, fault_events
from simulator.plan import Scenario
from simulator.timebase import DAY_MS, rng_for
from simulator.traffic import STREAM_PHYSICS


@dataclass(frozen=True)
class Replayed:
    """One device's replay: its faults and the first time each rule turned on (epoch ms)."""

    device_id: str
    model_id: str
    faults: tuple[Fault, ...]
    first_on: dict[str, int]  # rule id -> first turn-on


def feed(ev: Evaluator, slot: int, readings: tuple[np.ndarray, np.ndarray, np.ndarray],
         codes: list[tuple[int, str, str]], t0: int, t1: int) -> list[Transitions]:
    """Feed one device's readings (`ts`, `metric`, `value`) of [t0, t1) to `ev`, each error
    code of `codes` (time, kind, code) in it just after the readings before it, as the
    appliance raises it, then the clock at t1; the transitions, in that order."""
    ts, mid, val = readings
    trs, cut = [], 0
    for t, _, code in codes:
        if t0 <= t < t1:
            end = int(np.searchsorted(ts, t))
            trs.append(ev.evaluate(ts[cut:end], np.full(end - cut, slot),
                                   mid[cut:end].astype(np.int64), val[cut:end]))
            trs.append(ev.errors(np.array([t], np.int64), np.array([slot]), [code]))
            cut = end
    trs.append(ev.evaluate(ts[cut:], np.full(len(ts) - cut, slot),
                           mid[cut:].astype(np.int64), val[cut:]))
    trs.append(ev.tick(t1))
    return trs


def replay_device(scenario: Scenario, device_index: int, compiled: CompiledRules,
                  slot: int = 1) -> Replayed:
    """Replay one device of `scenario` through `compiled` over the scenario's window."""
    device = scenario.devices[device_index]
    model = scenario.models[device.model_id]
    faults = scenario.faults_of(device.device_id)
    app = make_appliance(device.kind, model, faults,
                         rng_for(scenario.seed, STREAM_PHYSICS, device.index))
    app.presence = (scenario.window.first_day * DAY_MS, scenario.presence[device.household])
    sessions = scenario.sessions[device.device_id]
    ev = Evaluator(compiled)
    ev.assign(np.array([slot]), [device.model_id])
    codes = sorted(e for f in faults for e in fault_events(f) if e[1] == "error")
    first: dict[str, int] = {}
    t0 = scenario.window.start_ms
    while t0 < scenario.window.end_ms:
        t1 = min(scenario.window.end_ms, t0 + DAY_MS)
        for tr in feed(ev, slot, app.run(t0, t1, sessions).arrays(), codes, t0, t1):
            for t, r, on in zip(tr.ts_ms, tr.rule, tr.on, strict=True):
                if on:
                    first.setdefault(compiled.rules[r].id, int(t))
        t0 = t1
    return Replayed(device.device_id, device.model_id, tuple(faults), first)


def replay_model(scenario: Scenario, model_id: str, compiled: CompiledRules,
                 healthy: int | None = None) -> list[Replayed]:
    """The devices of `model_id` in `scenario`, replayed: all with a fault, and all healthy
    ones or only the first `healthy` of them (a fault is rare: most devices are healthy)."""
    faulty = {f.device_id for f in scenario.faults}
    picked, left = [], healthy
    for i, d in enumerate(scenario.devices):
        if d.model_id != model_id:
            continue
        if d.device_id not in faulty:
            if left is not None and left <= 0:
                continue
            left = None if left is None else left - 1
        picked.append(i)
    return [replay_device(scenario, i, compiled) for i in picked]


def leads(replayed: list[Replayed], compiled: CompiledRules) -> tuple[
        dict[str, list[float | None]], list[tuple[str, str, str]]]:
    """Per gradual fault code, the lead in days of its first same-code rule before the hard
    failure (None: missed); and (device, rule, fault mechanisms) of rules that turned on for a
    code none of the device's faults has (false alarms and symptoms alike)."""
    fault_of = {(r.model, r.id): r.fault for r in compiled.rules}  # ids repeat across models
    out: dict[str, list[float | None]] = {}
    wrong: list[tuple[str, str, str]] = []
    for rep in replayed:
        codes = {f.code for f in rep.faults}
        for f in rep.faults:
            if f.kind != "gradual" or f.hard_failure_ms is None:
                continue
            ons = [t for rule, t in rep.first_on.items() if fault_of[rep.model_id, rule] == f.code
                   and f.onset_ms <= t < f.hard_failure_ms]
            out.setdefault(str(f.code), []).append(
                (f.hard_failure_ms - min(ons)) / DAY_MS if ons else None)
        for rule, _t in rep.first_on.items():
            if fault_of[rep.model_id, rule] not in codes:
                wrong.append((rep.device_id, rule,
                              ",".join(f.mechanism for f in rep.faults) or "healthy"))
    return out, wrong


def main(argv: list[str]) -> None:
    """`python -m fixahead.lab.replay MODEL HOUSEHOLDS SEEDS HEALTHY [END]`: the packaged rule
    packs on the 30 days before END (default 2026-11-22) of each seed (comma-separated), all
    faulty devices of MODEL and HEALTHY healthy ones per seed; prints per code the faults
    caught before failure and their median and 10th-percentile lead, then the wrong-code rules."""
    import datetime as dt
    import statistics
    from collections import Counter

    from devices.catalog import load_catalog
    from rules.compiler import compile_rules
    from rules.loader import load_packs
    from simulator.plan import plan
    from simulator.timebase import Window

    model, households, seeds, healthy = argv[0], int(argv[1]), argv[2], int(argv[3])
    end_day = dt.date.fromisoformat(argv[4] if len(argv) > 4 else "2026-11-22")
    end = int(dt.datetime(end_day.year, end_day.month, end_day.day,
                          tzinfo=dt.UTC).timestamp() * 1000)
    slot = 15 * 60_000  # as fixahead evaluate's window (simulator.timebase.window_ending_now)
    window = Window((end - 30 * DAY_MS) // slot * slot, end)
    catalog = load_catalog()
    compiled = compile_rules(load_packs(catalog), catalog)
    by_code: dict[str, list[float | None]] = {}
    wrong: Counter[tuple[str, str]] = Counter()
    for seed in seeds.split(","):
        scenario = plan(households, window, int(seed), catalog)
        got, bad = leads(replay_model(scenario, model, compiled, healthy), compiled)
        for code, values in got.items():
            by_code.setdefault(code, []).extend(values)
        wrong.update((rule, mechanisms) for _, rule, mechanisms in bad)
    for code, values in sorted(by_code.items()):
        caught = [v for v in values if v is not None]
        median = f"{statistics.median(caught):.2f}" if caught else "-"
        p10 = f"{float(np.percentile(caught, 10)):.2f}" if caught else "-"
        print(f"{code}: {len(caught)} of {len(values)} before failure, median lead {median} d"
              f" (p10 {p10} d)")
    for (rule, mechanisms), n in wrong.most_common():
        print(f"wrong code: {rule} on {mechanisms}: {n}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
