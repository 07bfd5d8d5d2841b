"""When the platform was listening, so silence is judged only over that time (pure).

A device is silent for the time since its last reading during which the platform could have
heard it: ingest connected, caught up and committing, and the rules worker current. The
composition root records those intervals (in trusted time: the wall clock in production, the
simulation's own clock in a scenario) and hands them to the engine as a `Listening`. Time
outside every interval, before the first and after the last, is not listened time: an
outage, a restart or a backlog pauses silence, and the silence clock resumes credited.
Readings on both sides of a gap between intervals (`unheard`) are not judged as one
sequence: what was said in the gap may have been lost (a broker restart).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np


def merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping [start, end) intervals covering the same time."""
    out: list[tuple[int, int]] = []
    for a, b in sorted((int(a), int(b)) for a, b in intervals if b > a):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass(frozen=True)
class Listening:
    """Intervals [start_ms, end_ms) of trusted time during which the platform listened."""

    intervals: tuple[tuple[int, int], ...] = ()
    _xs: np.ndarray = field(init=False, repr=False, compare=False)
    _ys: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        merged = merge(self.intervals)
        object.__setattr__(self, "intervals", tuple(merged))
        xs = np.array([t for iv in merged for t in iv], np.float64)
        # cumulative listened time at each interval bound: flat across gaps
        lengths = np.array([b - a for a, b in merged], np.float64)
        ends = np.cumsum(lengths)
        ys = np.empty(2 * len(merged))
        ys[0::2] = ends - lengths
        ys[1::2] = ends
        object.__setattr__(self, "_xs", xs)
        object.__setattr__(self, "_ys", ys)

    @property
    def frontier_ms(self) -> int:
        """The end of the last listened interval (0: never listened)."""
        return self.intervals[-1][1] if self.intervals else 0

    def listened(self, t_ms: np.ndarray | float) -> np.ndarray:
        """Listened milliseconds from the first interval's start up to each time."""
        if not self.intervals:
            return np.zeros_like(np.asarray(t_ms, np.float64))
        return np.interp(np.asarray(t_ms, np.float64), self._xs, self._ys)

    def credit(self, since_ms: np.ndarray, now_ms: int) -> np.ndarray:
        """Milliseconds in [since, now] the platform was not listening (0 where since < 0:
        never seen)."""
        since = np.asarray(since_ms, np.float64)
        lo = np.minimum(since, now_ms)
        heard = self.listened(float(now_ms)) - self.listened(lo)
        out = (now_ms - lo) - heard
        return np.where(since < 0, 0.0, np.maximum(out, 0.0))

    def unheard(self, since_ms: np.ndarray, until_ms: np.ndarray) -> np.ndarray:
        """Milliseconds of each [since, until] that fall in a gap between two listened
        intervals: messages of that time may have been lost. Time before the first interval
        and after the last is not a known gap (the record may simply lag); 0 where since < 0
        (never seen)."""
        since = np.asarray(since_ms, np.float64)
        until = np.asarray(until_ms, np.float64)
        if len(self.intervals) < 2:
            return np.zeros(np.broadcast(since, until).shape)
        first, last = float(self.intervals[0][0]), float(self.frontier_ms)
        lo = np.clip(since, first, last)
        hi = np.maximum(np.clip(until, first, last), lo)
        out = (hi - lo) - (self.listened(hi) - self.listened(lo))
        return np.where(since < 0, 0.0, np.maximum(out, 0.0))

    def with_interval(self, start_ms: int, end_ms: int) -> Listening:
        """This record with one more listened interval."""
        return Listening((*self.intervals, (start_ms, end_ms)))
