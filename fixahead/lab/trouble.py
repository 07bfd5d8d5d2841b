"""Platform trouble injected into a scenario, and the simulation's clock the platform trusts.

`SimClock` is the scenario's trusted clock: the simulated time the fleet has published up
to, so the end of a stream (or a platform still draining it) never moves time past the
fleet's data. `Trouble` wraps the published stream: an ingest outage holds the messages of
its window and delivers them when it ends (the broker keeps the ingest session's queue); a
broker restart loses them (a broker without persistence). Either way the platform was not
listening over the window, which the injection reports to the listening recorder the way
ingest's disconnect callback would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

MIN_MS = 60_000
Item = tuple[str, str, bytes, int]  # (device_id, topic, payload, sim_ms)


@dataclass(frozen=True)
class TroubleSpec:
    """What to inject: an ingest outage and a broker restart (minutes of simulated time,
    0: none), placed at `at` (a share of the window), and a slow database (ms per commit)."""

    ingest_outage_min: float = 0.0
    broker_restart_min: float = 0.0
    slow_db_ms: float = 0.0
    at: float = 0.5

    @property
    def any(self) -> bool:
        """Whether anything is injected."""
        return bool(self.ingest_outage_min or self.broker_restart_min or self.slow_db_ms)


class SimClock:
    """The simulated time published so far (ms); `start_ms` before the first message."""

    def __init__(self, start_ms: int) -> None:
        self._ms = start_ms
        self.lock = threading.RLock()  # Trouble moves the clock and its own state in one step

    def now_ms(self) -> int:
        """The trusted simulated time."""
        return self._ms

    def advance(self, ms: int) -> None:
        """Move forward (never back)."""
        with self.lock:
            self._ms = max(self._ms, ms)


Beat = Callable[[int, bool], None]  # (trusted ms, listening)


class Trouble:
    """Applies a `TroubleSpec` to a stream of items over the window [start_ms, end_ms)."""

    def __init__(self, spec: TroubleSpec, start_ms: int, end_ms: int, clock: SimClock,
                 beat: Beat) -> None:
        self.spec, self.clock, self.beat = spec, clock, beat
        at = start_ms + int((end_ms - start_ms) * spec.at)
        self.windows: list[tuple[str, int, int]] = []
        if spec.ingest_outage_min:
            self.windows.append(("ingest_outage", at, at + int(spec.ingest_outage_min * MIN_MS)))
        if spec.broker_restart_min:
            # later in the window, so the two do not overlap
            b = start_ms + int((end_ms - start_ms) * min(0.95, spec.at + 0.2))
            self.windows.append(("broker_restart", b, b + int(spec.broker_restart_min * MIN_MS)))
        self.down = False
        self.lost = 0
        self.held = 0

    def _set(self, ms: int, *, down: bool) -> None:
        with self.clock.lock:  # one step, so a reader never sees the new state at old time
            self.clock.advance(ms)
            self.down = down

    def state(self) -> tuple[int, bool]:
        """(trusted ms, down) read together."""
        with self.clock.lock:
            return self.clock.now_ms(), self.down

    def _window(self, ms: int) -> tuple[str, int, int] | None:
        return next((w for w in self.windows if w[1] <= ms < w[2]), None)

    def apply(self, items: Iterable[Item]) -> Iterator[Item]:
        """The stream as the platform receives it; advances the clock as it goes."""
        held: list[Item] = []
        current: tuple[str, int, int] | None = None
        for item in items:
            w = self._window(item[3])
            if w is not current:
                if current is not None:  # the trouble ends: listening again
                    self._set(current[2], down=False)
                    self.beat(current[2], True)
                    yield from held
                    held.clear()
                if w is not None:  # the trouble starts: listening up to it, not after
                    self.beat(w[1], True)
                    self._set(w[1], down=True)
                    self.beat(w[1], False)
                current = w
            self.clock.advance(item[3])
            if current is None:
                yield item
            elif current[0] == "ingest_outage":
                held.append(item)
                self.held += 1
            else:
                self.lost += 1
        yield from held
        with self.clock.lock:
            self.down = False
