"""What every appliance simulator shares: the output chunk, metric lookup by catalog name,
ambient effects (daily and seasonal) and a fallback for catalog metrics nobody simulates."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from devices.catalog import Model
from simulator.faults import Fault, severity
from simulator.timebase import DAY_MS, SLOT_MIN, SLOT_MS
from simulator.usage import Sessions


@dataclass
class Chunk:
    """Samples (true time, catalog metric id, value) and events (ts, type, code or state)."""

    ts: list[np.ndarray] = field(default_factory=list)
    metric: list[np.ndarray] = field(default_factory=list)
    value: list[np.ndarray] = field(default_factory=list)
    events: list[tuple[int, str, str]] = field(default_factory=list)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ts int64, metric int32, value float64), sorted by time (stable)."""
        if not self.ts:
            return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0)
        ts = np.concatenate(self.ts)
        order = np.argsort(ts, kind="stable")
        return (ts[order], np.concatenate(self.metric)[order].astype(np.int32),
                np.concatenate(self.value)[order])


class Appliance:
    """Base of the appliance simulators: `run(t0, t1, sessions)` gives that interval's chunk."""

    produces: frozenset[str] = frozenset()

    def __init__(self, model: Model, faults: list[Fault], rng: np.random.Generator) -> None:
        self.model = model
        self.faults = faults
        self.rng = rng
        self.ids = {m.name: m.id for m in model.metrics}
        self.phase = float(rng.uniform(0, 1))
        self.presence: tuple[int, np.ndarray] | None = None  # (start_ms, minutes home per slot)

    def home(self, ts: np.ndarray) -> np.ndarray:
        """Whether the household is home (half a slot or more) at `ts`; True when unknown."""
        if self.presence is None:
            return np.ones(len(ts), dtype=bool)
        start, minutes = self.presence
        slot = np.clip((ts - start) // SLOT_MS, 0, len(minutes) - 1)
        return np.asarray(minutes[slot] >= SLOT_MIN // 2)

    def emit(self, chunk: Chunk, name: str, ts: np.ndarray, values: np.ndarray) -> None:
        """Add samples of metric `name`, if the model has it (values clipped to its range)."""
        mid = self.ids.get(name)
        if mid is None or len(ts) == 0:
            return
        lo, hi = self.model.metric(name).valid
        chunk.ts.append(np.asarray(ts, np.int64))
        chunk.metric.append(np.full(len(ts), mid, np.int32))
        chunk.value.append(np.clip(np.asarray(values, np.float64), lo, hi))

    def period_ms(self, name: str, default_s: float = 60.0) -> int:
        """The catalog sampling period of a metric, in ms."""
        if name in self.ids:
            period = self.model.metric(name).period_s
            if period > 0:
                return int(period * 1000)
        return int(default_s * 1000)

    def grid(self, name: str, t0: int, t1: int) -> np.ndarray:
        """Sample times of a periodic metric in [t0, t1), on the metric's period."""
        step = self.period_ms(name)
        first = -(-t0 // step) * step
        return np.arange(first, t1, step, dtype=np.int64)

    def degradation(self, mechanism: str, ts: np.ndarray | int) -> np.ndarray:
        """Total severity of this device's gradual faults of `mechanism` at `ts`."""
        out = np.zeros_like(np.asarray(ts, dtype=np.float64))
        for f in self.faults:
            if f.mechanism == mechanism:
                out = out + severity(f, ts)
        return np.minimum(out, 1.0)

    def active(self, mechanism: str, ts: np.ndarray) -> np.ndarray:
        """Whether a sudden fault of `mechanism` is in effect at `ts` (hard failure to end)."""
        out = np.zeros(len(ts), dtype=bool)
        for f in self.faults:
            if f.mechanism == mechanism and f.hard_failure_ms is not None:
                end = f.end_ms if f.end_ms is not None else 2**62
                out |= (ts >= f.hard_failure_ms) & (ts < end)
        return out

    def run(self, t0: int, t1: int, sessions: Sessions) -> Chunk:
        """Samples and events for [t0, t1); subclasses add their physics."""
        chunk = Chunk()
        self.simulate(chunk, t0, t1, sessions)
        self.fill_unknown(chunk, t0, t1)
        return chunk

    def simulate(self, chunk: Chunk, t0: int, t1: int, sessions: Sessions) -> None:
        """Add this appliance's physics to `chunk`."""

    def fill_unknown(self, chunk: Chunk, t0: int, t1: int) -> None:
        """Metrics the catalog has that no physics here produces: noise in the typical range."""
        for m in self.model.metrics:
            if m.name in self.produces or m.period_s <= 0:
                continue
            ts = self.grid(m.name, t0, t1)
            lo, hi = m.typical
            mid, half = (lo + hi) / 2, (hi - lo) / 2
            wave = np.sin(2 * np.pi * (ts / DAY_MS + self.phase))
            self.emit(chunk, m.name, ts,
                      mid + half * (0.4 * wave + 0.15 * self.rng.standard_normal(len(ts))))


def ambient_temp(ts: np.ndarray, indoor: bool = True) -> np.ndarray:
    """Air temperature (°C) with a daily and a seasonal cycle; indoor swings are smaller."""
    day = ts / DAY_MS
    season = np.cos(2 * np.pi * (day - 197) / 365.25)  # warmest mid-July
    daily = np.cos(2 * np.pi * (day % 1 - 0.625))  # warmest at 15:00 UTC
    if indoor:
        return 21.0 + 1.5 * season + 1.0 * daily
    return 10.0 + 9.0 * season + 4.0 * daily


def cycle_times(start: int, duration_s: float, step_ms: int) -> np.ndarray:
    """Sample times of a running cycle."""
    return np.arange(start, start + int(duration_s * 1000), step_ms, dtype=np.int64)
