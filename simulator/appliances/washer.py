"""WM-800 style washer: fill, wash, drain, rinse, drain, spin; telemetry only while running."""

from __future__ import annotations

import numpy as np

from simulator.appliances.base import Appliance, Chunk, cycle_times
from simulator.usage import Sessions

# (phase, start fraction of the cycle)
PHASES = (("fill", 0.0), ("wash", 0.06), ("drain", 0.55), ("fill", 0.60), ("wash", 0.66),
          ("drain", 0.80), ("spin", 0.85), ("idle", 0.97))
E21_DRAIN_S = 600.0  # drain time at which the appliance gives up (the hard failure)


class Washer(Appliance):
    """Motor current, water inflow, vibration every 10 s in a cycle; drain time once a cycle."""

    produces = frozenset({"motor_current", "water_inflow", "drain_time", "vibration"})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.base_drain = float(self.rng.uniform(45, 70))
        self.inflow = float(self.rng.uniform(8.5, 11.5))

    def simulate(self, chunk: Chunk, t0: int, t1: int, sessions: Sessions) -> None:
        """One block of samples per cycle started in [t0, t1)."""
        rng = self.rng
        step = self.period_ms("motor_current", 10)
        for start, dur, load in zip(*_cols(sessions.between(t0, t1)), strict=True):
            ts = cycle_times(start, dur, step)
            frac = (ts - start) / (dur * 1000)
            phase = np.searchsorted([p[1] for p in PHASES], frac, side="right") - 1
            names = np.array([p[0] for p in PHASES])[phase]
            n = len(ts)
            inlet = 1 - 0.8 * self.degradation("inlet_filter_blocked", start)
            imbalance = rng.uniform(0.1, 0.6)
            tumble = 1.3 + 0.08 * load + 0.5 * (np.sin(ts / 7000.0) > 0)
            motor = np.select([names == "wash", names == "spin", names == "fill"],
                              [tumble, 3.6 + 0.3 * load, 0.35], 0.25)
            worn = 1 + 0.45 * float(self.degradation("motor_brushes", start))
            motor = motor * np.where(names == "idle", 1.0, worn) + rng.normal(0, 0.08, n)
            inflow = np.where(names == "fill", self.inflow * inlet, 0.0)
            inflow = np.maximum(0, inflow + np.where(inflow > 0, rng.normal(0, 0.3, n), 0))
            vib = np.select([names == "spin", names == "wash"],
                            [0.5 + 1.6 * imbalance, 0.25], 0.03) + np.abs(rng.normal(0, 0.04, n))
            self.emit(chunk, "motor_current", ts, motor)
            self.emit(chunk, "water_inflow", ts, inflow)
            self.emit(chunk, "vibration", ts, vib)
            clog = self.degradation("drain_pump_clog", start)
            drain = self.base_drain + (E21_DRAIN_S - self.base_drain) * clog + rng.normal(0, 3)
            drain_at = start + int(0.85 * dur * 1000)
            self.emit(chunk, "drain_time", np.array([drain_at]), np.array([drain]))
            chunk.events.append((int(start), "state", "cycle_started"))
            chunk.events.append((int(start + dur * 1000), "state", "cycle_finished"))


def _cols(s: Sessions) -> tuple[list[int], list[float], list[float]]:
    return s.start_ms.tolist(), s.duration_s.tolist(), s.amount.tolist()
