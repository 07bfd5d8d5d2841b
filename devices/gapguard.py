"""Reading an id-ordered log table (`ingest_feed`, `incident_changes`) in commit order (pure).

Identity values are taken when a row is inserted, not when its transaction commits, so with
several writers id 101 can be visible while id 100 is still committing. A reader that simply
took "id > last" would skip 100 for ever. `GapGuard` stops at a gap until it is filled or is
older than `wait_s` (then its transaction rolled back, which also leaves a gap).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class GapGuard:
    """Decides how far a reader may advance past ids that are not (yet) visible."""

    def __init__(self, wait_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.wait_s = wait_s
        self.clock = clock
        self._gap_seen: dict[int, float] = {}

    def accept(self, last_id: int, ids: list[int]) -> int:
        """How many of `ids` (ascending, all > last_id) may be consumed now."""
        expected = last_id + 1
        for n, i in enumerate(ids):
            if i != expected:
                first = self._gap_seen.setdefault(expected, self.clock())
                if self.clock() - first < self.wait_s:
                    return n
                self._gap_seen.pop(expected, None)
            expected = i + 1
        return len(ids)
