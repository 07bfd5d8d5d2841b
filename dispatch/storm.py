"""The storm guard's judgement: when openings of one code are a fleet storm (pure).

One code opening on many devices of one model at once is far likelier our own trouble (or
a fleet-wide cause) than that many independent faults; it becomes one fleet incident, and no
customer is emailed until an operator says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class StormConfig:
    """Tunables: a storm is at least `threshold` openings of one (model, code) within
    `window_ms`; every opening waits `settle_ms` (event time) before dispatch decides, so a
    storm's first openings are held too; at most `cap_per_hour` proactive decisions go
    out per hour of platform time (the rest wait, shown as capped)."""

    window_ms: int = 10 * 60_000
    count: int = 50  # openings within the window, whatever the fleet's size
    share: float = 0.05  # ... or this share of the model's fleet,
    min_count: int = 5  # ... but never fewer than this
    settle_ms: int = 0
    cap_per_hour: int = 1000


def threshold(fleet_size: int, cfg: StormConfig) -> int:
    """Openings within the window that make a storm, for a model with `fleet_size` devices."""
    return max(cfg.min_count, min(cfg.count, math.ceil(cfg.share * max(fleet_size, 0))))


def storm_start(times_ms: Sequence[int], fleet_size: int, cfg: StormConfig) -> int | None:
    """The first opening time of the earliest window holding a storm, or None."""
    ts = sorted(times_ms)
    need = threshold(fleet_size, cfg)
    for i in range(len(ts) - need + 1):
        if ts[i + need - 1] - ts[i] < cfg.window_ms:
            return ts[i]
    return None


def capacity(dispatched_last_hour: int, cfg: StormConfig) -> int:
    """How many more proactive decisions may go out now under the hourly cap."""
    return max(0, cfg.cap_per_hour - dispatched_last_hour)
