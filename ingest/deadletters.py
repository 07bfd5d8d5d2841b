"""Dead letters: how a refused message is kept (capped, with its device) and reported.

Each refused message becomes one `DeadLetter`; its payload is kept up to a cap (the size it
had is kept too), its device id is taken from the topic whenever the topic names one, and it
counts once in a Prometheus counter per reason. Logging is one line per reason per interval,
with how many more came meanwhile, so a flood of bad messages cannot flood the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from devices.topics import DEVICE_ID

log = logging.getLogger("ingest.dead_letters")


@dataclass
class DeadLetter:
    """A rejected message with the reason, where in it the problem is, and its first bytes."""

    topic: str
    device_id: str | None
    reason: str
    detail: str
    payload: bytes
    size: int = -1  # bytes the payload had; -1: as kept

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.payload)


def topic_device(topic: str, prefix: str) -> str | None:
    """The device id a topic under `prefix` names, if it names a valid one."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    device_id = topic[len(head):].split("/", 1)[0]
    return device_id if DEVICE_ID.match(device_id) else None


def dead_letter(topic: str, prefix: str, reason: str, detail: str, payload: bytes,
                max_bytes: int, device_id: str | None = None) -> DeadLetter:
    """A dead letter with its payload cut to `max_bytes` and its device found in the topic."""
    return DeadLetter(topic, device_id or topic_device(topic, prefix), reason,
                      detail.replace("\x00", "\\x00"), payload[:max_bytes], len(payload))


class DeadLetterReporter:
    """Counts dead letters per reason and logs one line per reason per `every_s`."""

    def __init__(self, count: Callable[[str], None], every_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._count = count
        self.every_s = every_s
        self._clock = clock
        self._logged: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def record(self, letter: DeadLetter) -> bool:
        """Count one dead letter; whether a log line was written for it."""
        self._count(letter.reason)
        now = self._clock()
        last = self._logged.get(letter.reason)
        if last is not None and now - last < self.every_s:
            self._held[letter.reason] = self._held.get(letter.reason, 0) + 1
            return False
        self._logged[letter.reason] = now
        more = self._held.pop(letter.reason, 0)
        log.warning("dead letter (%s) from %s on %s: %s%s", letter.reason,
                    letter.device_id or "unknown device", letter.topic, letter.detail[:200],
                    f" (and {more} more of this reason in the last {self.every_s:g}s)"
                    if more else "")
        return True
