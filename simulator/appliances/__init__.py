"""Appliance simulators by kind; a kind without its own physics gets catalog-range noise."""

from __future__ import annotations

import numpy as np

from devices.catalog import Model
from simulator.appliances.base import Appliance, Chunk
from simulator.appliances.cycles import Dishwasher, Dryer
from simulator.appliances.fridge import Fridge
from simulator.appliances.heatpump import HeatPump
from simulator.appliances.washer import Washer
from simulator.appliances.waterheater import WaterHeater
from simulator.faults import Fault

SIMULATORS: dict[str, type[Appliance]] = {
    "washer": Washer,
    "fridge": Fridge,
    "dishwasher": Dishwasher,
    "dryer": Dryer,
    "waterheater": WaterHeater,
    "heatpump": HeatPump,
}

__all__ = ["SIMULATORS", "Appliance", "Chunk", "make_appliance"]


def make_appliance(kind: str, model: Model, faults: list[Fault],
                   rng: np.random.Generator) -> Appliance:
    """The simulator for a device of `kind` (normalised kind key)."""
    return SIMULATORS.get(kind, Appliance)(model, faults, rng)
