"""Dishwasher (DW-600 style) and tumble dryer (TD-500 style): telemetry while a programme runs."""

from __future__ import annotations

import numpy as np

from simulator.appliances.base import Appliance, Chunk, ambient_temp, cycle_times
from simulator.usage import Sessions

I20_DRAIN_S = 480.0  # the dishwasher gives up draining (hard failure of a clogged filter)
D10_FACTOR = 2.2  # drying time, relative to a clean filter, at which the dryer raises D10


def _rows(s: Sessions) -> list[tuple[int, float, float]]:
    return list(zip(s.start_ms.tolist(), s.duration_s.tolist(), s.amount.tolist(), strict=True))


class Dishwasher(Appliance):
    """Water temperature, inflow and spray pressure every 30 s; drain and heating time a run."""

    produces = frozenset({"water_temp", "water_inflow", "drain_time", "heating_time",
                          "spray_pressure"})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.base_drain = float(self.rng.uniform(35, 55))

    def simulate(self, chunk: Chunk, t0: int, t1: int, sessions: Sessions) -> None:
        """One block per programme started in [t0, t1)."""
        rng = self.rng
        for start, dur, _fill in _rows(sessions.between(t0, t1)):
            ts = cycle_times(start, dur, self.period_ms("water_temp", 30))
            frac = (ts - start) / (dur * 1000)
            n = len(ts)
            broken = bool(self.active("heater_failure", np.array([start]))[0])
            inlet = 12.0 + rng.normal(0, 0.5)
            target = inlet if broken else rng.uniform(55, 65)
            heat = np.clip((frac - 0.05) / 0.15, 0, 1)
            rinse = np.clip((frac - 0.7) / 0.1, 0, 1) * (frac < 0.9)
            temp = inlet + (target - inlet) * np.maximum(heat * (frac < 0.5), rinse)
            temp = temp + rng.normal(0, 0.4, n)
            filling = ((frac < 0.05) | ((frac > 0.5) & (frac < 0.55))
                       | ((frac > 0.65) & (frac < 0.7)))
            clog = self.degradation("filter_clog", start)
            spray = np.where(filling, 0.1, 0.95 * (1 - 0.35 * clog)) + rng.normal(0, 0.03, n)
            self.emit(chunk, "water_temp", ts, temp)
            self.emit(chunk, "water_inflow", ts, np.where(filling, 6.0 + rng.normal(0, .2, n), 0))
            self.emit(chunk, "spray_pressure", ts, np.maximum(0, spray))
            drain = self.base_drain + (I20_DRAIN_S - self.base_drain) * clog + rng.normal(0, 2)
            heating = 120.0 if broken else 0.15 * dur / 60 * (1 + rng.normal(0, 0.05))
            self.emit(chunk, "drain_time", np.array([start + int(0.55 * dur * 1000)]),
                      np.array([drain]))
            self.emit(chunk, "heating_time", np.array([start + int(0.2 * dur * 1000)]),
                      np.array([heating]))
            chunk.events.append((int(start), "state", "cycle_started"))
            chunk.events.append((int(start + dur * 1000), "state", "cycle_finished"))


class Dryer(Appliance):
    """Drum temperature, exhaust humidity, motor current every 30 s; drying time a run."""

    produces = frozenset({"drum_temp", "exhaust_humidity", "motor_current", "drying_time"})

    def simulate(self, chunk: Chunk, t0: int, t1: int, sessions: Sessions) -> None:
        """One block per programme started in [t0, t1); lint makes drying slower and hotter."""
        rng = self.rng
        for start, dur, load in _rows(sessions.between(t0, t1)):
            lint = float(self.degradation("lint_clog", start))
            length = dur * (1 + (D10_FACTOR - 1) * lint)
            ts = cycle_times(start, length, self.period_ms("drum_temp", 30))
            frac = (ts - start) / (length * 1000)
            n = len(ts)
            room = float(ambient_temp(np.array([start]))[0])
            drum = room + (52 + 12 * lint - room) * np.clip(frac / 0.15, 0, 1) * (frac < 0.92)
            humidity = 85 * np.exp(-2.8 * frac) + 8 + rng.normal(0, 1.5, n)
            motor = 1.2 + 0.12 * load + 0.2 * np.sin(ts / 9000.0) + rng.normal(0, 0.05, n)
            if self.active("belt_broken", np.array([start]))[0]:
                motor = np.full(n, 0.2)
            self.emit(chunk, "drum_temp", ts, drum + rng.normal(0, 0.5, n))
            self.emit(chunk, "exhaust_humidity", ts, humidity)
            self.emit(chunk, "motor_current", ts, motor)
            self.emit(chunk, "drying_time", np.array([start + int(length * 1000)]),
                      np.array([length / 60 + rng.normal(0, 1.5)]))
            chunk.events.append((int(start), "state", "cycle_started"))
            chunk.events.append((int(start + length * 1000), "state", "cycle_finished"))
