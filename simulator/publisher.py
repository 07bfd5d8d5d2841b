"""Publish a fleet's messages over MQTT QoS 1, paced in simulated time.

Without credentials, devices share a few connections (a device always uses the same one, so
its messages stay in order). With credentials (device id -> secret) every device connects as
itself, with a retained `offline` status as its last will. All connections are driven from one
thread with a selector; each keeps at most `window` publishes unacknowledged, and none lags
the newest message by more than `max_lag_ms` of simulated time: a connection the broker reads
slower than the others would otherwise hold hours of its devices' messages back (at full
speed a window spans days of simulated time) while the rest of the fleet's time runs on, and
its devices would look silent to the platform.
"""

from __future__ import annotations

import logging
import selectors
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from devices import protocol
from devices.brokerurl import BrokerAddress
from devices.topics import topic_for
from simulator.mqtt import Connection, MqttError, parse_url

log = logging.getLogger(__name__)


@dataclass
class Progress:
    """Counters a progress display reads."""

    published: int = 0
    acked: int = 0
    sim_ms: int = 0
    connections: int = 0
    reconnects: int = 0
    started: float = 0.0

    @property
    def rate(self) -> float:
        """Publishes per second since the start."""
        return self.published / max(1e-9, time.monotonic() - self.started)


@dataclass(frozen=True)
class Pace:
    """Maps simulated time to wall time: `speed` simulated seconds per second (<= 0: no wait)."""

    speed: float
    sim_start_ms: int
    wall_start: float

    def due(self, sim_ms: int) -> float:
        """Monotonic wall time at which a message of simulated time `sim_ms` goes out."""
        if self.speed <= 0:
            return 0.0
        return self.wall_start + (sim_ms - self.sim_start_ms) / 1000 / self.speed


LAG_CHECK_EVERY = 256  # sends between lag checks (a check visits every connection)


class FleetPublisher:
    """Publish (device_id, topic, payload, sim_ms) items; see the module docstring."""

    def __init__(self, url: str, *, connections: int = 2,
                 credentials: Mapping[str, str] | None = None, client_prefix: str = "fxsim",
                 window: int = 20000, prefix: str = "fixahead/v1",
                 max_lag_ms: int = 600_000) -> None:
        self.broker: BrokerAddress = parse_url(url)
        self.max_lag_ms = max_lag_ms
        self._unchecked = 0
        self.shared = max(1, connections)
        self.credentials = credentials
        self.client_prefix = client_prefix
        self.window = window
        self.prefix = prefix
        self.selector = selectors.DefaultSelector()
        self.conns: dict[str, Connection] = {}
        self.dirty: set[Connection] = set()
        self.progress = Progress(started=time.monotonic())
        self._last_ping = time.monotonic()

    def _open(self, key: str, **kwargs: object) -> Connection:
        # a device's own connection uses its device id: brokers pin a device to it
        client_id = key if "username" in kwargs else f"{self.client_prefix}-{key}"
        conn = Connection(self.broker, client_id, **kwargs)  # type: ignore[arg-type]
        conn.connect()
        self.selector.register(conn.sock, selectors.EVENT_READ, conn)  # type: ignore[arg-type]
        self.conns[key] = conn
        self.progress.connections = len(self.conns)
        return conn

    def connection_for(self, device_id: str) -> Connection:
        """The connection a device publishes on (opened on first use)."""
        if self.credentials is not None:
            conn = self.conns.get(device_id)
            if conn is None:
                secret = self.credentials.get(device_id)
                if secret is None:
                    raise MqttError(f"no credentials for device {device_id}")
                will = (topic_for(self.prefix, device_id, "status"),
                        protocol.encode_status(protocol.Status(False)), True)
                conn = self._open(device_id, username=device_id, password=secret, will=will)
            return conn
        key = f"c{zlib.crc32(device_id.encode()) % self.shared}"
        return self.conns.get(key) or self._open(key)

    def connect_all(self, device_ids: list[str]) -> None:
        """Bring every device online now (with credentials), not at its first message."""
        if self.credentials is not None:
            for device_id in device_ids:
                self.connection_for(device_id)

    def _recover(self, conn: Connection, exc: MqttError) -> None:
        """Reconnect a dropped connection and queue its unacknowledged publishes again."""
        log.warning("%s; reconnecting and resending %d publishes", exc, len(conn.inflight))
        if conn.sock is not None:
            self.selector.unregister(conn.sock)
        conn.reconnect()
        self.selector.register(conn.sock, selectors.EVENT_READ, conn)  # type: ignore[arg-type]
        self.dirty.add(conn)
        self.progress.reconnects += 1

    def pump(self, timeout: float = 0.0) -> None:
        """Write what is queued and read acknowledgements (reconnecting dropped connections)."""
        for conn in list(self.dirty):
            try:
                if conn.flush():
                    self.dirty.discard(conn)
            except MqttError as exc:
                self._recover(conn, exc)
        for key, _ in self.selector.select(timeout):
            try:
                self.progress.acked += key.data.read()
            except MqttError as exc:
                self._recover(key.data, exc)
        now = time.monotonic()
        if now - self._last_ping > 5:
            self._last_ping = now
            for conn in self.conns.values():
                conn.ping_if_idle(now)
                if conn.out:
                    self.dirty.add(conn)

    def _lagging(self, sim_ms: int) -> bool:
        """Whether a connection still waits for the broker to take a publish more than
        `max_lag_ms` older than `sim_ms`."""
        bound = sim_ms - self.max_lag_ms
        for conn in self.conns.values():
            oldest = conn.oldest_stamp()
            if oldest is not None and oldest < bound:
                return True
        return False

    def send(self, device_id: str, topic: str, payload: bytes, retain: bool = False,
             sim_ms: int | None = None) -> None:
        """Queue one publish, waiting while the device's connection has a full window, and
        while any connection lags `sim_ms` (the message's simulated time) by `max_lag_ms`."""
        conn = self.connection_for(device_id)
        while len(conn.inflight) >= self.window:
            self.pump(0.05)
        self._unchecked += 1
        if sim_ms is not None and self._unchecked >= LAG_CHECK_EVERY:
            self._unchecked = 0
            while self._lagging(sim_ms):
                self.pump(0.05)
        conn.publish(topic, payload, retain, stamp=sim_ms or 0)
        self.progress.published += 1
        if len(conn.out) > 1 << 16:
            try:
                conn.flush()
            except MqttError as exc:
                self._recover(conn, exc)
        self.dirty.add(conn)

    def run(self, items: Iterable[tuple[str, str, bytes, int]], pace: Pace | None = None,
            on_progress: Callable[[Progress], None] | None = None,
            every: float = 0.25) -> Progress:
        """Publish every (device_id, topic, payload, sim_ms) in order, then wait for all acks."""
        self.progress.started = time.monotonic()
        next_report = 0.0
        for n, (device_id, topic, payload, sim_ms) in enumerate(items, 1):
            if pace is not None and pace.speed > 0:
                while True:
                    wait = pace.due(sim_ms) - time.monotonic()
                    if wait <= 0:
                        break
                    self.pump(min(wait, 0.1))
            self.send(device_id, topic, payload, sim_ms=sim_ms)
            self.progress.sim_ms = sim_ms
            if n % 512 == 0:
                self.pump(0)
                now = time.monotonic()
                if on_progress is not None and now >= next_report:
                    on_progress(self.progress)
                    next_report = now + every
        self.wait_acked()
        if on_progress is not None:
            on_progress(self.progress)
        return self.progress

    def wait_acked(self, timeout: float = 120.0) -> None:
        """Block until the broker acknowledged every publish."""
        deadline = time.monotonic() + timeout
        while any(c.inflight or c.out for c in self.conns.values()):
            if time.monotonic() > deadline:
                raise TimeoutError("broker did not acknowledge every publish in time")
            self.pump(0.05)

    def close(self) -> None:
        """Disconnect every connection cleanly."""
        for conn in self.conns.values():
            if conn.sock is not None:
                self.selector.unregister(conn.sock)
            conn.close()
        self.conns.clear()
        self.selector.close()

    def __enter__(self) -> FleetPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
