"""Electric storage water heater (WH-200 style): draws cool the tank, the element reheats it;
scale on the element slows heating, so heating time grows until W10."""

from __future__ import annotations

import numpy as np

from simulator.appliances.base import Appliance, Chunk, ambient_temp
from simulator.timebase import MINUTE_MS
from simulator.usage import DRAW_EVENT_LITRES, Sessions

TANK_L = 120.0
CLEAN_RATE = 0.24  # °C per minute with a clean 2 kW element in 120 l
LOSS_RATE = 0.004  # °C per minute standby loss
W10_FACTOR = 2.5  # heating slower than this (relative to clean) is the hard failure
HYST = 5.0


class WaterHeater(Appliance):
    """Tank and inlet temperature and element current every 2 min; heating time per reheat."""

    produces = frozenset({"tank_temp", "inlet_temp", "element_current", "heating_time"})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.setpoint = float(self.rng.uniform(55, 62))
        self.temp = self.setpoint
        self.t: int | None = None
        self.heating_since: int | None = None

    def _inlet(self, t: np.ndarray) -> np.ndarray:
        return 0.5 * ambient_temp(t, indoor=False) + 6.0

    def _dead(self, t: int) -> bool:
        return bool(self.active("element_failure", np.array([t]))[0])

    def _start_heating(self, t: int, chunk: Chunk) -> None:
        if not self._dead(t):
            self.heating_since = t
            chunk.events.append((t, "state", "heating_started"))

    def _advance(self, t_to: int, knots: list[tuple[int, float]], chunk: Chunk,
                 spans: list[tuple[int, int]]) -> None:
        """Move the tank state from self.t to t_to, recording (time, temp) knots."""
        assert self.t is not None
        while self.t < t_to:
            if self.heating_since is not None:
                slow = 1 + (W10_FACTOR - 1) * float(self.degradation("scale", self.t))
                rate = CLEAN_RATE / slow
                t_full = self.t + int((self.setpoint - self.temp) / rate * MINUTE_MS) + 1
                if t_full <= t_to:
                    self.t, self.temp = t_full, self.setpoint
                    minutes = (t_full - self.heating_since) / MINUTE_MS
                    self.emit(chunk, "heating_time", np.array([t_full]), np.array([minutes]))
                    chunk.events.append((t_full, "state", "heating_finished"))
                    spans.append((self.heating_since, t_full))
                    self.heating_since = None
                else:
                    self.temp += rate * (t_to - self.t) / MINUTE_MS
                    self.t = t_to
            else:
                floor = self.setpoint - HYST
                gap = max(0.0, self.temp - floor)
                t_cold = self.t + int(gap / LOSS_RATE * MINUTE_MS) + 1
                if t_cold <= t_to and not self._dead(t_cold):
                    self.t, self.temp = t_cold, min(self.temp, floor)
                    self._start_heating(t_cold, chunk)
                else:
                    self.temp = max(10.0, self.temp - LOSS_RATE * (t_to - self.t) / MINUTE_MS)
                    self.t = t_to
            knots.append((self.t, self.temp))

    def simulate(self, chunk: Chunk, t0: int, t1: int, sessions: Sessions) -> None:
        """Walk draws in [t0, t1) through the thermostat, then sample the tank on the grid."""
        if self.t is None:
            self.t = t0
        knots: list[tuple[int, float]] = [(self.t, self.temp)]
        spans: list[tuple[int, int]] = []
        s = sessions.between(t0, t1)
        for start, litres in zip(s.start_ms.tolist(), s.amount.tolist(), strict=True):
            self._advance(start, knots, chunk, spans)
            inlet = float(self._inlet(np.array([start]))[0])
            self.temp -= litres / TANK_L * (self.temp - inlet)
            knots.append((start, self.temp))
            if litres > DRAW_EVENT_LITRES:
                chunk.events.append((start, "state", "hot_water_draw"))
            if self.heating_since is None and self.temp < self.setpoint - HYST:
                self._start_heating(start, chunk)
        self._advance(t1, knots, chunk, spans)
        if self.heating_since is not None:
            spans.append((self.heating_since, t1))
        kt = np.array([k[0] for k in knots], dtype=np.int64)
        kv = np.array([k[1] for k in knots])
        ts = self.grid("tank_temp", t0, t1)
        rng = self.rng
        self.emit(chunk, "tank_temp", ts, np.interp(ts, kt, kv) + rng.normal(0, 0.2, len(ts)))
        self.emit(chunk, "inlet_temp", ts, self._inlet(ts) + rng.normal(0, 0.2, len(ts)))
        on = np.zeros(len(ts), dtype=bool)
        for a, b in spans:
            on |= (ts >= a) & (ts < b)
        self.emit(chunk, "element_current", ts,
                  np.where(on, 8.7, 0.0) + np.abs(rng.normal(0, 0.05, len(ts))))
