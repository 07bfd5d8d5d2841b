"""Faults with their ground truth: sudden, gradual, intermittent and sensor faults. Pure.

Every time in the ground truth is fixed when the plan is drawn, from the fault's parameters
and the device's usage sessions: a gradual fault's first visible symptom is when its effect
exceeds twice the metric's noise (for appliances that only report while running: the first
session after that), and its hard failure is when the effect reaches the error threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from devices.catalog import Model
from simulator.timebase import DAY_MS, MINUTE_MS, Window
from simulator.usage import Sessions

CYCLE_KINDS = frozenset({"washer", "dryer", "dishwasher"})
SENSOR_MODES = ("spike", "stuck", "dropout")


@dataclass(frozen=True)
class Mechanism:
    """A way a kind of appliance fails: which metric shows it and which code ends it."""

    name: str
    kind: str  # "gradual" | "sudden" | "intermittent"
    codes: tuple[str, ...]  # preferred codes, first one the model has wins
    keywords: tuple[str, ...]  # else a code whose title/meaning mentions one of these
    metric: str | None
    customer_fixable: bool
    visible_at: float = 0.15  # severity at which the symptom exceeds the noise


MECHANISMS: dict[str, tuple[Mechanism, ...]] = {
    "washer": (
        Mechanism("drain_pump_clog", "gradual", ("E21",), ("drain",), "drain_time", True),
        Mechanism("inlet_filter_blocked", "gradual", ("E10",), ("supply", "inlet"),
                  "water_inflow", True, 0.2),
        Mechanism("leak", "sudden", ("E90",), ("leak",), None, False),
        Mechanism("low_supply_pressure", "intermittent", ("E10",), ("supply",), None, True),
        Mechanism("motor_brushes", "gradual", ("E60",), ("motor",), "motor_current", False),
        Mechanism("door_lock", "intermittent", ("E40",), ("lock",), None, True),
    ),
    "fridge": (
        Mechanism("compressor_wear", "gradual", ("F2",), ("warm", "compressor"),
                  "compressor_duty", False, 0.12),
        Mechanism("door_left_open", "sudden", ("F7",), ("door",), "cabinet_temp", True),
        Mechanism("dusty_condenser", "gradual", ("F9",), ("condenser",), "compressor_duty",
                  True, 0.15),
        Mechanism("defrost_fault", "gradual", ("F4",), ("defrost",), "cabinet_temp", False),
    ),
    "dishwasher": (
        Mechanism("filter_clog", "gradual", ("I20",), ("drain",), "drain_time", True),
        Mechanism("leak", "sudden", ("I30",), ("leak",), None, False),
        Mechanism("heater_failure", "sudden", ("I40",), ("heat",), None, False),
        Mechanism("salt_empty", "sudden", ("I05",), ("salt",), None, True),
    ),
    "dryer": (
        Mechanism("lint_clog", "gradual", ("D10",), ("lint", "filter"), "drying_time", True),
        Mechanism("container_full", "sudden", ("D20",), ("container",), None, True),
        Mechanism("belt_broken", "sudden", ("D50",), ("drum",), None, False),
        Mechanism("overheating", "intermittent", ("D80",), ("overheat",), None, False),
    ),
    "waterheater": (
        Mechanism("scale", "gradual", ("W10",), ("too long", "scale"), "heating_time", False),
        Mechanism("element_failure", "sudden", ("W20",), ("element",), None, False),
        Mechanism("overtemperature", "intermittent", ("W30",), ("overtemp",), None, False),
    ),
    "heatpump": (
        Mechanism("refrigerant_leak", "gradual", ("H02",), ("refrigerant",), "low_pressure",
                  False),
        Mechanism("defrost_degradation", "gradual", ("H30",), ("defrost",), "defrost_time",
                  False),
        Mechanism("flow_restriction", "gradual", ("H20",), ("flow",), "flow_return_delta",
                  True),
        Mechanism("high_pressure_trips", "intermittent", ("H01",), ("high-pressure",), None,
                  False),
    ),
}


@dataclass(frozen=True)
class Fault:
    """One fault and its ground truth (times are epoch ms; None: not within the run)."""

    fault_id: str
    device_id: str
    model_id: str
    kind: str
    mechanism: str
    code: str | None
    onset_ms: int
    first_symptom_ms: int | None
    hard_failure_ms: int | None
    customer_fixable: bool
    metric: str | None = None
    end_ms: int | None = None
    planned_failure_ms: int | None = None
    shape: float = 1.5
    episodes: tuple[tuple[int, int], ...] = field(default=())

    def as_record(self) -> dict[str, object]:
        """The ground-truth row of this fault."""
        row = asdict(self)
        row["episodes"] = [list(e) for e in self.episodes]
        return row


def pick_code(model: Model, mech: Mechanism) -> str | None:
    """The model's code for a mechanism: a preferred one, else one matching a keyword."""
    have = [c.code for c in model.codes]
    for code in mech.codes:
        if code in have:
            return code
    for c in model.codes:
        text = f"{c.title} {c.meaning}".lower()
        if any(k in text for k in mech.keywords):
            return c.code
    return None


def severity(fault: Fault, t_ms: np.ndarray | int) -> np.ndarray:
    """Gradual degradation in [0, 1] at `t_ms`: 0 before onset, 1 at the planned failure."""
    t = np.asarray(t_ms, dtype=np.float64)
    if fault.kind != "gradual" or fault.planned_failure_ms is None:
        return np.zeros_like(t)
    span = max(1.0, fault.planned_failure_ms - fault.onset_ms)
    x = np.clip((t - fault.onset_ms) / span, 0.0, 1.0)
    return np.asarray(x**fault.shape)


def _first_session(sessions: Sessions, t: int, end: int) -> int | None:
    i = int(np.searchsorted(sessions.start_ms, t))
    if i < len(sessions) and sessions.start_ms[i] < end:
        return int(sessions.start_ms[i])
    return None


def _margin(window: Window, wanted: int) -> int:
    """`wanted`, or a quarter of a short window (a demo run of minutes still gets faults)."""
    return min(wanted, (window.end_ms - window.start_ms) // 4)


def draw_fault(rng: np.random.Generator, fault_id: str, device_id: str, kind: str,
               model: Model, window: Window, sessions: Sessions) -> Fault | None:
    """Draw one fault of a device (None when the model has no code for what was drawn)."""
    mechs = [m for m in MECHANISMS.get(kind, ()) if pick_code(model, m)]
    sensor = rng.random() < 0.2 or not mechs
    if sensor:
        metric = str(rng.choice([m.name for m in model.metrics]))
        onset = int(rng.integers(window.start_ms, window.end_ms - _margin(window, DAY_MS // 4)))
        end = min(window.end_ms, onset + int(rng.uniform(0.1, 4) * DAY_MS))
        mode = str(rng.choice(SENSOR_MODES))
        return Fault(fault_id, device_id, model.id, "sensor", mode, None, onset, onset, None,
                     False, metric, end)
    mech = mechs[int(rng.integers(len(mechs)))]
    code = pick_code(model, mech)
    cycles = kind in CYCLE_KINDS
    end = window.end_ms
    if mech.kind == "gradual":
        span = int(rng.uniform(6, 28) * DAY_MS)
        planned = int(rng.integers(window.start_ms + _margin(window, 2 * DAY_MS),
                                   window.end_ms + 5 * DAY_MS))
        onset = planned - span
        shape = float(rng.uniform(1.2, 2.5))
        visible = onset + int(span * mech.visible_at ** (1 / shape))
        probe = Fault(fault_id, device_id, model.id, "gradual", mech.name, code, onset, None, None,
                      mech.customer_fixable, mech.metric, None, planned, shape)
        if cycles:
            first = _first_session(sessions, max(visible, window.start_ms), end)
            hard = _first_session(sessions, planned, end)
        else:
            first = visible if visible < end else None
            hard = planned if planned < end else None
        return Fault(**{**asdict(probe), "first_symptom_ms": first, "hard_failure_ms": hard})
    onset = int(rng.integers(window.start_ms, window.end_ms - _margin(window, DAY_MS // 8)))
    if mech.kind == "sudden":
        hard = _first_session(sessions, onset, end) if cycles else onset + 5 * MINUTE_MS
        hard = hard if hard is not None and hard < end else None
        fault_end = None
        if mech.customer_fixable and hard is not None:
            fault_end = min(end, hard + int(rng.uniform(10, 180) * MINUTE_MS))
        return Fault(fault_id, device_id, model.id, "sudden", mech.name, code, onset, hard, hard,
                     mech.customer_fixable, mech.metric, fault_end, hard)
    # intermittent: the code comes and goes; in cycle appliances during some runs
    if cycles:
        starts = sessions.between(onset, end)
        pick = rng.random(len(starts)) < 0.4
        episodes = tuple((int(s), int(s + d * 1000)) for s, d in
                         zip(starts.start_ms[pick], starts.duration_s[pick], strict=True))
    else:
        n = int(rng.integers(2, 8))
        times = np.sort(rng.integers(onset, end, n))
        episodes = tuple((int(t), int(min(end, t + rng.uniform(5, 60) * MINUTE_MS)))
                         for t in times)
    first = episodes[0][0] if episodes else None
    return Fault(fault_id, device_id, model.id, "intermittent", mech.name, code, onset, first,
                 first, mech.customer_fixable, mech.metric, end, None, 1.0, episodes)


def fault_events(fault: Fault) -> list[tuple[int, str, str]]:
    """The error/cleared events a fault raises: (ts_ms, type, code)."""
    if fault.code is None or fault.hard_failure_ms is None:
        return []
    if fault.kind == "intermittent":
        out = []
        for a, b in fault.episodes:
            out += [(a, "error", fault.code), (b, "cleared", fault.code)]
        return out
    out = [(fault.hard_failure_ms, "error", fault.code)]
    if fault.kind == "sudden" and fault.end_ms is not None:
        out.append((fault.end_ms, "cleared", fault.code))
    return out
