"""The storm guard wired to dispatch: settled openings are decided, storms held, the cap kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import psycopg

from dispatch import hold
from dispatch.ports import Ports
from dispatch.service import DispatchConfig, Outcome, dispatch_incident
from dispatch.storm import StormConfig
from fixahead.wiring import dispatch_ports


def decider(conn: psycopg.Connection,
            on_outcome: Callable[[Outcome | None], None] | None = None, *,
            released: bool = False, config: DispatchConfig | None = None,
            ports: Ports | None = None) -> hold.Decide:
    """Decide on a held opening as dispatch would have at once: at its event time, or at
    the operator's release (`released`)."""
    ports = ports or dispatch_ports()

    def decide(h: hold.Held, now: datetime) -> None:
        at = max(h.at, now) if released else h.at
        outcome = dispatch_incident(conn, incident_id=h.incident_id, device_id=h.device_id,
                                    model_id=h.model_id, code=h.fault, now=at, ports=ports,
                                    config=config or DispatchConfig())
        if on_outcome is not None:
            on_outcome(outcome)
    return decide


def guard_step(conn: psycopg.Connection, cfg: StormConfig, now: datetime,
               on_outcome: Callable[[Outcome | None], None] | None = None,
               config: DispatchConfig | None = None, ports: Ports | None = None) -> int:
    """One pass of the guard at platform time `now`; how many openings were dispatched."""
    ports = ports or dispatch_ports()
    return hold.step(conn, cfg, now, decider(conn, on_outcome, config=config, ports=ports),
                     ports)


def release_storm(conn: psycopg.Connection, fleet_key: str, cfg: StormConfig,
                  now: datetime, config: DispatchConfig | None = None,
                  ports: Ports | None = None) -> int:
    """The operator's release of a fleet incident's held emails; how many were dispatched."""
    ports = ports or dispatch_ports()
    return hold.release(conn, fleet_key, now, cfg,
                        decider(conn, released=True, config=config, ports=ports), ports)
