"""Reports of what a broker refused devices, aggregated per client; no I/O.

The same notices, in the same form, as the Mosquitto audit plugin publishes
(fixahead/broker_audit/fixahead_audit.c), for the embedded broker: one compact JSON object per
client, `{"client", "username", "access", "topic", "count"}`; a client's first refusal is
reported at once, later ones within `interval_s` are held and reported together when it has
passed (count = how many, topic and access of the latest).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

MAX_CLIENTS = 1024  # clients tracked at once; the longest idle is reported and forgotten
IDLE_S = 60.0


@dataclass
class _Tracked:
    sent_at: float
    seen_at: float
    held: int = 0
    access: str = ""
    topic: str = ""


def notice(client_id: str, username: str, access: str, topic: str, count: int) -> bytes:
    """One notice's payload."""
    return json.dumps({"client": client_id, "username": username, "access": access,
                       "topic": topic, "count": count}, separators=(",", ":")).encode()


class RefusalNotices:
    """Turns refusals into notices, at most one per client per `interval_s`."""

    def __init__(self, interval_s: float, clock: Callable[[], float]) -> None:
        if interval_s < 0:
            raise ValueError(f"interval_s must be >= 0, not {interval_s}")
        self.interval_s = interval_s
        self._clock = clock
        self._clients: dict[tuple[str, str], _Tracked] = {}

    def refused(self, client_id: str, username: str, access: str, topic: str) -> list[bytes]:
        """Record one refusal; the notices to publish now (none while it is held)."""
        now = self._clock()
        key = (client_id, username)
        out: list[bytes] = []
        t = self._clients.get(key)
        if t is None:
            if len(self._clients) >= MAX_CLIENTS:
                oldest = min(self._clients, key=lambda k: self._clients[k].seen_at)
                out += self._report(oldest, self._clients[oldest], now)
                del self._clients[oldest]
            t = self._clients[key] = _Tracked(sent_at=now - self.interval_s, seen_at=now)
        t.held += 1
        t.access, t.topic, t.seen_at = access, topic, now
        if now - t.sent_at >= self.interval_s:
            out += self._report(key, t, now)
        return out

    def due(self) -> list[bytes]:
        """Notices for refusals held longer than the interval; forgets idle clients."""
        now = self._clock()
        out: list[bytes] = []
        for key, t in list(self._clients.items()):
            if t.held and now - t.sent_at >= self.interval_s:
                out += self._report(key, t, now)
            elif not t.held and now - t.seen_at >= IDLE_S:
                del self._clients[key]
        return out

    @property
    def holding(self) -> bool:
        """Whether refusals wait for their client's interval to pass."""
        return any(t.held for t in self._clients.values())

    def _report(self, key: tuple[str, str], t: _Tracked, now: float) -> list[bytes]:
        if not t.held:
            return []
        out = notice(key[0], key[1], t.access, t.topic, t.held)
        t.held, t.sent_at = 0, now
        return [out]
