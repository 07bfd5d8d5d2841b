"""What dispatch reads from areas it may not import, as ports (pure: types only).

Dispatch never imports ingest or rules, and never reads their tables. What it needs of them it
takes as `Ports`, filled by the composition root with the owners' query functions
(`fixahead.wiring.dispatch_ports`); tests pass the same, or a hand-written fake. As in
cosmicpython's `bootstrap`, the functions that need a port take it as an argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import psycopg


class StateTimes(Protocol):
    """Epoch seconds (int64, any order) of the state events among `states` that these devices
    (registry keys, `devices.id`) reported in [since, until); ingest owns them
    (`ingest.queries.state_times`)."""

    def __call__(self, conn: psycopg.Connection, devices: Sequence[int],
                 states: Sequence[str], *, since: datetime,
                 until: datetime) -> npt.NDArray[np.int64]:
        """The times, read on the caller's connection (in its transaction)."""
        ...


class IncidentStates(Protocol):
    """The state (open, updated, acknowledged, resolved, auto_cleared) of each of these
    incidents that exists, by key; rules owns them (`rules.queries.states`)."""

    def __call__(self, conn: psycopg.Connection, keys: Sequence[str]) -> Mapping[str, str]:
        """The states, read on the caller's connection."""
        ...


class RemainingLife(Protocol):
    """The remaining life rules estimated for an incident, {days, lo, hi}, or None
    (`rules.queries.remaining_life`)."""

    def __call__(self, conn: psycopg.Connection,
                 incident_id: str) -> dict[str, float | None] | None:
        """The estimate, read on the caller's connection."""
        ...


@dataclass(frozen=True)
class Ports:
    """Everything dispatch reads from other areas through their functions."""

    state_times: StateTimes  # appliance usage, for availability and away detection
    incident_states: IncidentStates  # the storm guard: which held openings closed since
    remaining_life: RemainingLife  # what the visit email says of a worn part
