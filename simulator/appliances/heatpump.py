"""Air-to-water heat pump (HP-900 style): weather-compensated flow temperature, refrigerant
pressures that follow the temperatures, defrosts in cold weather. A refrigerant leak lowers
both pressures and raises the current; a restricted water flow widens the flow/return delta."""

from __future__ import annotations

import numpy as np

from simulator.appliances.base import Appliance, Chunk, ambient_temp
from simulator.timebase import DAY_MS, MINUTE_MS
from simulator.usage import Sessions

DEFROST_EVERY_MIN = 90.0


class HeatPump(Appliance):
    """Temperatures, pressures and current every minute (outdoor every 5); defrost times."""

    produces = frozenset({"flow_temp", "return_temp", "flow_return_delta", "outdoor_temp",
                          "high_pressure", "low_pressure", "compressor_current", "defrost_time"})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.curve = float(self.rng.uniform(0.6, 1.0))
        self.weather_days: dict[int, float] = {}

    def _outdoor(self, ts: np.ndarray) -> np.ndarray:
        days = ts // DAY_MS
        for d in np.unique(days).tolist():
            if d not in self.weather_days:
                self.weather_days[d] = float(self.rng.normal(0, 3))
        offset = np.array([self.weather_days[d] for d in days.tolist()])
        return np.asarray(ambient_temp(ts, indoor=False) + offset)

    def simulate(self, chunk: Chunk, t0: int, t1: int, sessions: Sessions) -> None:
        """Continuous telemetry over [t0, t1)."""
        rng = self.rng
        ts = self.grid("flow_temp", t0, t1)
        if not len(ts):
            return
        n = len(ts)
        out = self._outdoor(ts)
        # an occupancy-aware controller: 3 K lower room set point while nobody is home
        away = ~self.home(ts)
        demand = np.clip((16 - out - 3 * away) / 26, 0.03, 1.0)
        flow = np.clip(27 + self.curve * (20 - out) - 4 * away, 25, 55) + rng.normal(0, 0.3, n)
        restricted = self.degradation("flow_restriction", ts)
        leak = self.degradation("refrigerant_leak", ts)
        delta = (2.5 + 4 * demand) * (1 + 1.8 * restricted) + rng.normal(0, 0.2, n)
        high = (8 + 0.38 * flow) * (1 - 0.3 * leak) + rng.normal(0, 0.3, n)
        low = (5.2 + 0.12 * out) * (1 - 0.55 * leak) + rng.normal(0, 0.15, n)
        current = (2 + 12 * demand) * (1 + 0.35 * leak + 0.2 * restricted) + rng.normal(0, 0.2, n)
        self.emit(chunk, "flow_temp", ts, flow)
        self.emit(chunk, "return_temp", ts, flow - delta)
        self.emit(chunk, "flow_return_delta", ts, delta)
        self.emit(chunk, "high_pressure", ts, high)
        self.emit(chunk, "low_pressure", ts, np.maximum(0.5, low))
        self.emit(chunk, "compressor_current", ts, np.maximum(0, current))
        ots = self.grid("outdoor_temp", t0, t1)
        self.emit(chunk, "outdoor_temp", ots, self._outdoor(ots) + rng.normal(0, 0.1, len(ots)))
        step = int(DEFROST_EVERY_MIN * MINUTE_MS)
        cand = np.arange(-(-t0 // step) * step, t1, step, dtype=np.int64)
        cand = cand[self._outdoor(cand) < 5]
        if len(cand):
            worn = self.degradation("defrost_degradation", cand)
            minutes = 4 + 0.15 * np.maximum(0, 5 - self._outdoor(cand)) + 14 * worn
            self.emit(chunk, "defrost_time", cand, minutes + rng.normal(0, 0.4, len(cand)))
