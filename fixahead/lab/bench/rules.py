"""`fixahead bench rules`: the standard rule pack over a fleet's readings on one thread.

Readings come as ingest commits them: messages of 10 samples from one device, devices in a
random order each round, in batches. Baselines in the same run: the same rules vectorised in
NumPy (one step = at most one reading per device), and the Numba kernels' own source run by
CPython without the JIT (a plain Python loop) on a sample. Cold start: a new process that
imports, loads the packs, compiles them and evaluates its first batch, JIT cache warm.
Throughputs are measured in this process's CPU time (all one thread), so that other load on
a shared machine does not count against any of them (the cold start is wall time).
"""

from __future__ import annotations

import subprocess
import sys
import time
import types
from typing import TYPE_CHECKING, Any

import numpy as np

from rules.config import TICK_EVERY_MS
from simulator.readings import SAMPLES, fleet

if TYPE_CHECKING:  # the cold-start child imports this module: keep its imports light
    from fixahead.settings import Settings


def _clock() -> float:
    return time.process_time()


def _standard():
    from devices.catalog import load_catalog
    from rules.compiler import compile_rules
    from rules.loader import load_packs

    catalog = load_catalog()
    return compile_rules(load_packs(catalog), catalog)


def _numba(compiled, data: dict[str, Any], batch: int) -> tuple[float, int]:
    from rules.evaluator import Evaluator

    ev = Evaluator(compiled, capacity=len(data["keys"]) + 1)
    ev.assign(data["keys"], data["models"])
    n, flips, ticked = data["ts"].size, 0, 0
    t = _clock()
    for a in range(0, n, batch):
        b = min(n, a + batch)
        tr = ev.evaluate(data["ts"][a:b], data["device"][a:b], data["metric"][a:b],
                         data["value"][a:b])
        flips += len(tr)
        now = int(data["ts"][b - 1])
        if now - ticked >= TICK_EVERY_MS:  # as the engine does
            flips += len(ev.tick(now))
            ticked = now
    return _clock() - t, flips


def _numpy(compiled, data: dict[str, Any]) -> tuple[float, int]:
    from fixahead.lab.bench.vectorized import NumpyEvaluator

    keys = data["keys"]
    slot_model = np.array([compiled.model_index(m) for m in data["models"]])
    ev = NumpyEvaluator(compiled, slot_model)
    devices = keys.size
    t = _clock()
    for r in range(data["rounds"]):
        base = r * devices * SAMPLES
        for i in range(SAMPLES):
            sl = slice(base + i, base + devices * SAMPLES, SAMPLES)
            ev.step(data["ts"][sl], data["device"][sl] - 1, data["metric"][sl].astype(np.int64),
                    data["value"][sl])
    return _clock() - t, ev.transitions


def interpreted(module_names: tuple[str, ...] = ("rules.kernels.predicates",
                                                 "rules.kernels.batch")) -> dict[str, Any]:
    """The kernels' Python source without the JIT: every njit function replaced by its
    `py_func`, calling each other as plain Python functions."""
    import importlib

    space: dict[str, Any] = {}
    for name in module_names:
        space.update(vars(importlib.import_module(name)))
    pure: dict[str, Any] = dict(space)
    for key, obj in space.items():
        if hasattr(obj, "py_func"):
            f = obj.py_func
            pure[key] = types.FunctionType(f.__code__, pure, f.__name__, f.__defaults__)
    pure["prefetch"] = lambda *args: None  # a cache hint: nothing to do in Python
    return pure


def _python(compiled, data: dict[str, Any], sample: int) -> tuple[float, int]:
    from rules.evaluator import Evaluator

    ev = Evaluator(compiled, capacity=len(data["keys"]) + 1)
    ev.assign(data["keys"], data["models"])
    run = interpreted()["evaluate"]
    ts, dev = data["ts"][:sample], data["device"][:sample]
    o = [col.copy() for col in ev._out.cols]  # noqa: SLF001 - the kernel's out columns as the evaluator allocates them
    t = _clock()
    _, flips = run(ts, dev, data["metric"][:sample], data["value"][:sample], 0,
                   ev.slot_of, ev.slot_model, ev.seen, ev.st, compiled.program, ev.stack,
                   ev.counters, *o)
    return _clock() - t, flips


def event_latency(compiled, data: dict[str, Any], batch: int = 20_000,
                  batches: int = 50) -> float:
    """p99 ms of `Engine.process` for a committed batch of `batch` readings carrying one
    error-code event: the engine's share of the event-to-incident latency (no database)."""
    from devices.catalog import load_catalog
    from rules.engine import Engine

    engine = Engine(compiled, load_catalog())
    engine.assign(data["keys"], data["models"])
    washer = int(data["keys"][data["models"].index("WM-800")])
    took = []
    for k in range(min(batches, data["ts"].size // batch)):
        sl = slice(k * batch, (k + 1) * batch)
        event = (int(data["ts"][sl][-1]), washer, k, "error", "E21", None, None, None, True)
        t = time.perf_counter()
        changes = engine.process(data["ts"][sl], data["device"][sl], data["metric"][sl],
                                 data["value"][sl], [event])
        took.append(time.perf_counter() - t)
        assert any(c.incident.device == washer for c in changes) or k > 0
    return float(np.percentile(took, 99) * 1000)


COLD = """
import sys, numpy as np
from fixahead.lab.bench.rules import _standard
from simulator.readings import fleet
from rules.evaluator import Evaluator
c = _standard()
d = fleet(1000, 10000)
ev = Evaluator(c, capacity=1001)
ev.assign(d["keys"], d["models"])
ev.evaluate(d["ts"], d["device"], d["metric"], d["value"])
ev.tick(int(d["ts"][-1]))
print("evaluated", flush=True)
"""


def cold_start() -> float:
    """Seconds from spawning a new interpreter until its first batch is evaluated (wall)."""
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True,
                          timeout=300, check=True)
    elapsed = time.perf_counter() - t
    if "evaluated" not in done.stdout:
        raise RuntimeError(f"cold-start child failed: {done.stderr[-500:]}")
    return elapsed


def run(settings: Settings, *, quick: bool) -> dict[str, Any]:
    """Measure readings per second (Numba, NumPy, Python) and the cold start."""
    from fixahead.lab.bench.common import result

    del settings
    devices, readings = 100_000, (1_000_000 if quick else 10_000_000)
    batch, sample = 100_000, 20_000
    compiled = _standard()
    cold_start()  # fills the JIT cache if this is the first run on this checkout
    warm = fleet(100, 2000, seed=2)
    _numba(compiled, warm, 1000)
    data = fleet(devices, readings)
    n = data["ts"].size
    t_numba, flips = _numba(compiled, data, batch)
    t_numpy, np_flips = _numpy(compiled, data)
    t_py, _ = _python(compiled, data, sample)
    cold = min(cold_start() for _ in range(3))
    latency = event_latency(compiled, data)
    numba_rps, numpy_rps, py_rps = n / t_numba, n / t_numpy, sample / t_py
    return result(
        "rules",
        {"readings_per_s": round(numba_rps), "cold_start_s": round(cold, 3)},
        {"numpy_readings_per_s": round(numpy_rps), "python_readings_per_s": round(py_rps)},
        {"vs_numpy": round(numba_rps / numpy_rps, 2), "vs_python": round(numba_rps / py_rps, 1)},
        {"readings": n, "devices": devices, "batch_readings": batch, "threads": 1,
         "rules": len(compiled.rules), "predicates": int(compiled.program.kind.size),
         "models": compiled.models, "python_sample_readings": sample,
         "transitions_numba": flips, "transitions_numpy": np_flips, "quick": quick,
         "numba_s": round(t_numba, 3), "numpy_s": round(t_numpy, 3),
         "engine_event_to_incident_ms_p99": round(latency, 2),
         "engine_latency_batch_readings": 20_000},
    )
