"""FR-300 style fridge-freezer: compressor duty follows the heat load (room temperature, door
openings) over the compressor's capacity; a worn compressor loses capacity, so it runs longer
and, once it cannot keep up, the freezer warms (F2)."""

from __future__ import annotations

import numpy as np

from simulator.appliances.base import Appliance, Chunk, ambient_temp
from simulator.timebase import MINUTE_MS
from simulator.usage import Sessions

TAU_MIN = 12.0  # how fast the cabinet recovers after the door closes


class Fridge(Appliance):
    """Cabinet and freezer temperature every minute, compressor duty every 10 minutes."""

    produces = frozenset({"cabinet_temp", "freezer_temp", "compressor_duty"})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.set_cabinet = float(self.rng.uniform(3.5, 5.0))
        self.set_freezer = float(self.rng.uniform(-19.5, -17.5))
        self.cycle_min = float(self.rng.uniform(30, 50))
        self.base_load = float(self.rng.uniform(0.28, 0.36))

    def _state(self, ts: np.ndarray, sessions: Sessions) -> dict[str, np.ndarray]:
        amb = ambient_temp(ts)
        heat = door_heat(ts, sessions)
        open_ = self.active("door_left_open", ts)
        load = self.base_load + 0.012 * (amb - 21) + 0.04 * heat
        # lost capacity: a worn compressor (F2 once it cannot keep up), dust on the condenser
        # (F9, duty only), ice on an evaporator that does not defrost (F4, the cabinet warms)
        iced = self.degradation("defrost_fault", ts)
        cap = np.maximum(0.1, 1 - 0.72 * self.degradation("compressor_wear", ts)
                         - 0.4 * self.degradation("dusty_condenser", ts) - 0.25 * iced)
        req = np.where(open_, 1.5, load / cap)
        saw = 2 * np.abs(((ts / MINUTE_MS) / self.cycle_min + self.phase) % 1 - 0.5) - 0.5
        behind = np.maximum(0.0, req - 0.92)
        return {"amb": amb, "heat": heat, "open": open_, "req": req, "saw": saw, "behind": behind,
                "iced": iced}

    def simulate(self, chunk: Chunk, t0: int, t1: int, sessions: Sessions) -> None:
        """Continuous temperatures and duty, door events for openings that start in [t0, t1)."""
        rng = self.rng
        ts = self.grid("cabinet_temp", t0, t1)
        if len(ts):
            s = self._state(ts, sessions)
            since_open = np.zeros(len(ts))
            for f in self.faults:
                if f.mechanism == "door_left_open" and f.hard_failure_ms is not None:
                    hit = (ts >= f.hard_failure_ms) & (ts < (f.end_ms or 2**62))
                    since_open[hit] = (ts[hit] - f.hard_failure_ms + 5 * MINUTE_MS) / MINUTE_MS
            warm = (s["amb"] - self.set_cabinet) * 0.75 * (1 - np.exp(-since_open / 45.0))
            cabinet = (self.set_cabinet + 0.6 * s["saw"] + 0.5 * s["heat"] + 18 * s["behind"]
                       + 5.0 * s["iced"]
                       + np.where(s["open"], warm, 0.0) + rng.normal(0, 0.08, len(ts)))
            freezer = (self.set_freezer + 1.2 * s["saw"] + 0.15 * s["heat"] + 45 * s["behind"]
                       + rng.normal(0, 0.12, len(ts)))
            self.emit(chunk, "cabinet_temp", ts, cabinet)
            self.emit(chunk, "freezer_temp", self.grid("freezer_temp", t0, t1),
                      np.interp(self.grid("freezer_temp", t0, t1), ts, freezer))
        dts = self.grid("compressor_duty", t0, t1)
        if len(dts):
            duty = np.minimum(1.0, self._state(dts, sessions)["req"]) * 100
            self.emit(chunk, "compressor_duty", dts, duty + rng.normal(0, 1.5, len(dts)))
        for start, dur in zip(*_open_close(sessions.between(t0, t1)), strict=True):
            chunk.events.append((start, "state", "door_opened"))
            chunk.events.append((start + int(dur * 1000), "state", "door_closed"))


def _open_close(s: Sessions) -> tuple[list[int], list[float]]:
    return s.start_ms.tolist(), s.duration_s.tolist()


def door_heat(ts: np.ndarray, sessions: Sessions) -> np.ndarray:
    """Heat let in by door openings on a regular grid `ts`, decaying with TAU_MIN (a filter)."""
    step = int(ts[1] - ts[0]) if len(ts) > 1 else MINUTE_MS
    back = -(-3 * 3600_000 // step)
    origin = int(ts[0]) - back * step
    recent = sessions.between(origin, int(ts[-1]) + 1)
    n = back + len(ts)
    if not len(recent):
        return np.zeros(len(ts))
    idx = (recent.start_ms - origin) // step
    impulses = np.bincount(idx, weights=0.025 * recent.duration_s, minlength=n)[:n]
    kernel = np.exp(-np.arange(back) * step / MINUTE_MS / TAU_MIN)
    return np.convolve(impulses, kernel)[back:n]
