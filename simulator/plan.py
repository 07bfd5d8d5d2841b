"""The scenario of a run, drawn up front: fleet, true presence, usage sessions, faults and
network trouble. Everything in the ground truth comes from here. Pure and deterministic."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from devices.catalog import Model
from simulator.faults import CYCLE_KINDS, Fault, draw_fault
from simulator.fleet import Device, Fleet, build_fleet
from simulator.households import presence_minutes, slot_minutes
from simulator.network import NetworkFault, draw_network
from simulator.timebase import Window, rng_for
from simulator.usage import Sessions, concat, day_sessions

STREAM_USAGE, STREAM_FAULTS, STREAM_NETWORK = 2, 3, 4
FAULT_SHARE_PER_30_DAYS = 0.06


@dataclass(frozen=True)
class Shard:
    """Part `index` of `count`: the households whose index is `index` modulo `count`."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index}/{self.count}: need 0 <= index < count")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Parse "i/n"."""
        try:
            index, count = (int(x) for x in text.split("/"))
        except ValueError:
            raise ValueError(f"shard {text!r} must look like 0/4") from None
        return cls(index, count)

    def owns(self, household_index: int) -> bool:
        """Whether this shard simulates a household."""
        return household_index % self.count == self.index


@dataclass(frozen=True)
class Scenario:
    """Everything a run will do, before any telemetry is generated."""

    seed: int
    window: Window
    fleet: Fleet
    models: dict[str, Model]
    shard: Shard
    presence: dict[str, np.ndarray]  # household id -> minutes at home per 15-min slot
    sessions: dict[str, Sessions]  # device id -> usage sessions
    faults: list[Fault]
    network: list[NetworkFault]
    devices: tuple[Device, ...] = field(default=())  # the shard's devices

    def faults_of(self, device_id: str) -> list[Fault]:
        """The faults of one device."""
        return [f for f in self.faults if f.device_id == device_id]

    def network_of(self, device_id: str) -> list[NetworkFault]:
        """The network trouble of one device."""
        return [f for f in self.network if f.device_id == device_id]


def _household_usage(seed: int, fleet: Fleet, hh_index: int, window: Window
                     ) -> tuple[np.ndarray, dict[str, Sessions]]:
    hh = fleet.households[hh_index]
    rng = rng_for(seed, STREAM_USAGE, hh_index)
    home = presence_minutes(hh, window.first_day, window.n_days, rng)
    devices = fleet.devices_of(hh.id)
    parts: dict[str, list[Sessions]] = {d.device_id: [] for d in devices}
    for i in range(window.n_days):
        day = window.first_day + i
        washes = None
        for d in sorted(devices, key=lambda d: d.kind != "washer"):
            s = day_sessions(d.kind, hh, day, home[i], rng, washes)
            if d.kind == "washer":
                washes = s
            parts[d.device_id].append(s)
    sessions = {}
    for device_id, chunks in parts.items():
        s = concat(chunks)
        keep = (s.start_ms >= window.start_ms) & (s.start_ms < window.end_ms)
        sessions[device_id] = Sessions(s.start_ms[keep], s.duration_s[keep], s.amount[keep])
    return slot_minutes(home), sessions


def _broken_after(fault: Fault, sessions: Sessions) -> Sessions:
    """Sessions of a cycle appliance stop after a failure that needs a technician."""
    stops = fault.kind == "gradual" or (fault.kind == "sudden" and not fault.customer_fixable)
    if not stops or fault.hard_failure_ms is None:
        return sessions
    keep = sessions.start_ms <= fault.hard_failure_ms
    return Sessions(sessions.start_ms[keep], sessions.duration_s[keep], sessions.amount[keep])


def plan(n_households: int, window: Window, seed: int, models: dict[str, Model], *,
         fault_rate: float = 1.0, network_rate: float = 0.01, shard: Shard | None = None,
         tag: str | None = None) -> Scenario:
    """Draw the scenario of a run (only the shard's households get presence, usage, faults)."""
    shard = shard or Shard()
    fleet = build_fleet(n_households, window, seed, models, tag)
    presence: dict[str, np.ndarray] = {}
    sessions: dict[str, Sessions] = {}
    faults: list[Fault] = []
    network: list[NetworkFault] = []
    p_fault = min(0.9, fault_rate * FAULT_SHARE_PER_30_DAYS * window.days / 30)
    for hh in fleet.households:
        if not shard.owns(hh.index):
            continue
        presence[hh.id], usage = _household_usage(seed, fleet, hh.index, window)
        for d in fleet.devices_of(hh.id):
            rng = rng_for(seed, STREAM_FAULTS, d.index)
            s = usage[d.device_id]
            if rng.random() < p_fault:
                fault = draw_fault(rng, f"{fleet.tag}-f{d.index:06d}", d.device_id, d.kind,
                                   models[d.model_id], window, s)
                if fault is not None:
                    faults.append(fault)
                    if d.kind in CYCLE_KINDS:
                        s = _broken_after(fault, s)
            sessions[d.device_id] = s
            network += draw_network(rng_for(seed, STREAM_NETWORK, d.index), d.device_id, window,
                                    network_rate)
    devices = tuple(d for d in fleet.devices if d.device_id in sessions)
    return Scenario(seed, window, fleet, models, shard, presence, sessions, faults, network,
                    devices)
