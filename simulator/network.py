"""Network trouble with ground truth: disconnects with a backlog burst on reconnect, duplicate
deliveries and clock skew. Pure; applied to a device's messages by `traffic`.

- disconnect [start, end): messages created then are held and published at `end`, in order;
- duplicates [start, end): every message created then is delivered twice (same seq, payload);
- clock_skew [start, end): the device's clock is off by `skew_ms`, so its timestamps are too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from simulator.timebase import DAY_MS, MINUTE_MS, Window

KINDS = ("disconnect", "duplicates", "clock_skew")


@dataclass(frozen=True)
class NetworkFault:
    """One episode of network trouble on one device."""

    device_id: str
    kind: str
    start_ms: int
    end_ms: int
    skew_ms: int = 0

    def as_record(self) -> dict[str, object]:
        """The ground-truth row."""
        return asdict(self)


def draw_network(rng: np.random.Generator, device_id: str, window: Window,
                 rate_per_day: float = 0.01) -> list[NetworkFault]:
    """Draw a device's episodes: about `rate_per_day` of each kind per day."""
    out = []
    for kind in KINDS:
        for _ in range(rng.poisson(rate_per_day * window.days)):
            start = int(rng.integers(window.start_ms, window.end_ms - MINUTE_MS))
            if kind == "disconnect":
                length = int(rng.uniform(10, 8 * 60) * MINUTE_MS)
            elif kind == "duplicates":
                length = int(rng.uniform(5, 120) * MINUTE_MS)
            else:
                length = int(rng.uniform(0.2, 2) * DAY_MS)
            end = min(window.end_ms, start + length)
            # +-4 min at most: inside ingest's default future-skew limit of 5 minutes
            skew = int(rng.choice([-1, 1]) * rng.uniform(20, 240) * 1000) if kind == "clock_skew" \
                else 0
            out.append(NetworkFault(device_id, kind, start, end, skew))
    return sorted(out, key=lambda f: (f.start_ms, f.kind))


def _within(ts: np.ndarray, faults: list[NetworkFault], kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(mask, end) where ts falls in an episode of `kind`; end of that episode, or -1."""
    mask = np.zeros(len(ts), dtype=bool)
    end = np.full(len(ts), -1, dtype=np.int64)
    for f in faults:
        if f.kind == kind:
            hit = (ts >= f.start_ms) & (ts < f.end_ms)
            mask |= hit
            end[hit] = np.maximum(end[hit], f.end_ms)
    return mask, end


def skew_at(ts: np.ndarray, faults: list[NetworkFault]) -> np.ndarray:
    """Clock offset (ms) the device applies to each true timestamp."""
    out = np.zeros(len(ts), dtype=np.int64)
    for f in faults:
        if f.kind == "clock_skew":
            out[(ts >= f.start_ms) & (ts < f.end_ms)] = f.skew_ms
    return out


def publish_times(created: np.ndarray, faults: list[NetworkFault]) -> np.ndarray:
    """When each message (created at `created`, true time) reaches the broker."""
    held, end = _within(created, faults, "disconnect")
    return np.where(held, end, created)


def duplicated(created: np.ndarray, faults: list[NetworkFault]) -> np.ndarray:
    """Which messages are delivered twice."""
    return _within(created, faults, "duplicates")[0]


def offline_intervals(faults: list[NetworkFault]) -> list[tuple[int, int]]:
    """The disconnects, as (start, end)."""
    return [(f.start_ms, f.end_ms) for f in faults if f.kind == "disconnect"]
