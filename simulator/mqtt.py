"""A minimal MQTT 3.1.1 publisher connection (QoS 1), on plain non-blocking sockets.

Why not paho: paho 2.2 published ~5,500 msg/s with 1,000 in flight against our Mosquitto and
~500 msg/s with 20,000 in flight (it scans its queue on every ack); this connection writes
pre-built PUBLISH packets in large buffers and counts PUBACKs, which is what a fleet
simulator needs. A dropped connection is reopened and its unacknowledged publishes are sent
again with the DUP flag (at least once). It only publishes: no subscriptions, no QoS 2, no TLS.
"""

from __future__ import annotations

import socket
import struct
import time

from devices.brokerurl import BrokerAddress, parse_broker_url

CONNACK_CODES = {1: "unacceptable protocol version", 2: "identifier rejected",
                 3: "server unavailable", 4: "bad user name or password", 5: "not authorized"}
PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"


class MqttError(RuntimeError):
    """The broker refused or dropped a connection."""


def parse_url(url: str) -> BrokerAddress:
    """Parse an mqtt:// URL with the platform's parser; refuse mqtts://: this publisher has
    no TLS."""
    addr = parse_broker_url(url)
    if addr.tls:
        raise ValueError(f"MQTT URL {url!r}: the simulator publishes over plain TCP only "
                         "(no TLS in the simulator): use mqtt://host:port")
    return addr


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(raw)) + raw


def connect_packet(client_id: str, username: str | None, password: str | None,
                   keepalive: int, will: tuple[str, bytes, bool] | None) -> bytes:
    """A CONNECT packet (clean session)."""
    flags = 0x02
    body = _str(client_id)
    if will is not None:
        topic, payload, retain = will
        flags |= 0x04 | (0x08) | (0x20 if retain else 0)  # will, will QoS 1, will retain
        body += _str(topic) + _str(payload)
    if username is not None:
        flags |= 0x80
        body += _str(username)
        if password is not None:
            flags |= 0x40
            body += _str(password)
    variable = _str("MQTT") + bytes([4, flags]) + struct.pack(">H", keepalive)
    rest = variable + body
    return b"\x10" + _varint(len(rest)) + rest


def publish_packet(topic: bytes, payload: bytes, pid: int, retain: bool = False) -> bytes:
    """A QoS 1 PUBLISH packet; `topic` already carries its 2-byte length."""
    rest_len = len(topic) + 2 + len(payload)
    return b"".join((b"\x33" if retain else b"\x32", _varint(rest_len), topic,
                     pid.to_bytes(2, "big"), payload))


class Connection:
    """One MQTT session: queue QoS 1 publishes, flush them, count their acknowledgements."""

    def __init__(self, broker: BrokerAddress, client_id: str, *, username: str | None = None,
                 password: str | None = None, keepalive: int = 60,
                 will: tuple[str, bytes, bool] | None = None) -> None:
        self.broker = broker
        self.client_id = client_id
        self.username = username if username is not None else broker.username
        self.password = password if password is not None else broker.password
        self.keepalive = keepalive
        self.will = will
        self.sock: socket.socket | None = None
        self.out = bytearray()
        self.inbuf = bytearray()
        self.inflight: dict[int, bytes] = {}  # packet id -> PUBLISH packet, in send order
        self.stamps: dict[int, int] = {}  # packet id -> the caller's stamp (simulated ms)
        self.reconnects = 0
        self.next_pid = 1
        self.acked = 0
        self.last_send = 0.0
        self._topics: dict[str, bytes] = {}

    def connect(self, timeout: float = 10.0) -> None:
        """Open the socket and wait for a successful CONNACK."""
        sock = socket.create_connection((self.broker.host, self.broker.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(connect_packet(self.client_id, self.username, self.password,
                                    self.keepalive, self.will))
        ack = b""
        while len(ack) < 4:
            part = sock.recv(4 - len(ack))
            if not part:
                sock.close()
                raise MqttError(f"{self.client_id}: broker closed the connection on CONNECT")
            ack += part
        if ack[0] != 0x20 or ack[3] != 0:
            sock.close()
            reason = CONNACK_CODES.get(ack[3], f"code {ack[3]}")
            raise MqttError(f"{self.client_id}: connection refused: {reason}")
        sock.setblocking(False)
        self.sock = sock
        self.last_send = time.monotonic()

    def fileno(self) -> int:
        """The socket's descriptor (for selectors)."""
        assert self.sock is not None
        return self.sock.fileno()

    def publish(self, topic: str, payload: bytes, retain: bool = False, stamp: int = 0) -> int:
        """Queue a QoS 1 publish, `stamp` kept until it is acknowledged; returns its packet id."""
        pid = self.next_pid
        if pid in self.inflight:
            raise MqttError(f"{self.client_id}: 65535 publishes in flight")
        self.next_pid = pid % 65535 + 1
        encoded = self._topics.get(topic)
        if encoded is None:
            encoded = self._topics[topic] = _str(topic)
            if len(self._topics) > 4096:
                self._topics.clear()
        packet = publish_packet(encoded, payload, pid, retain)
        self.out += packet
        self.inflight[pid] = packet
        self.stamps[pid] = stamp
        return pid

    def oldest_stamp(self) -> int | None:
        """The stamp of the oldest unacknowledged publish (None: all acknowledged)."""
        for pid in self.inflight:
            return self.stamps[pid]
        return None

    def flush(self) -> bool:
        """Write what the socket takes now; True when everything queued is written."""
        if self.out and self.sock is not None:
            try:
                sent = self.sock.send(self.out)
            except BlockingIOError:
                return False
            except OSError as exc:
                raise MqttError(f"{self.client_id}: connection lost: {exc}") from None
            del self.out[:sent]
            self.last_send = time.monotonic()
        return not self.out

    def read(self) -> int:
        """Read what has arrived; count PUBACKs; returns how many were new."""
        assert self.sock is not None
        try:
            data = self.sock.recv(1 << 18)
        except BlockingIOError:
            return 0
        except OSError as exc:
            raise MqttError(f"{self.client_id}: connection lost: {exc}") from None
        if not data:
            raise MqttError(f"{self.client_id}: broker closed the connection")
        buf = self.inbuf
        buf += data
        pos, n, before = 0, len(buf), self.acked
        while pos + 2 <= n:
            head, length = buf[pos], buf[pos + 1]
            if length & 0x80:
                raise MqttError(f"{self.client_id}: unexpected large packet 0x{head:02x}")
            if pos + 2 + length > n:
                break
            if head == 0x40 and length == 2:
                pid = (buf[pos + 2] << 8) | buf[pos + 3]
                self.inflight.pop(pid, None)
                self.stamps.pop(pid, None)
                self.acked += 1
            pos += 2 + length
        del buf[:pos]
        return self.acked - before

    def reconnect(self, attempts: int = 30, delay: float = 0.2) -> None:
        """Open a new session and resend every unacknowledged publish, flagged DUP, in order."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        for attempt in range(attempts):
            try:
                self.connect()
                break
            except (OSError, MqttError):
                if attempt == attempts - 1:
                    raise
                time.sleep(min(5.0, delay * 2**attempt))
        self.reconnects += 1
        self.inbuf.clear()
        self.out = bytearray(b"".join(bytes([p[0] | 0x08]) + p[1:]
                                      for p in self.inflight.values()))

    def ping_if_idle(self, now: float) -> None:
        """Keep the session alive when nothing was sent for half the keepalive."""
        if now - self.last_send > self.keepalive / 2:
            self.out += PINGREQ
            self.last_send = now

    def close(self) -> None:
        """Send DISCONNECT (no will) and close the socket."""
        if self.sock is None:
            return
        try:
            self.sock.setblocking(True)
            self.sock.sendall(bytes(self.out) + DISCONNECT)
        except OSError:
            pass
        self.sock.close()
        self.sock = None
