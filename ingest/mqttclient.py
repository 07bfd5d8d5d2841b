"""paho-mqtt client construction: protocol detection (MQTT 5, else 3.1.1) and session options.

The ingest client reads its socket through a buffer. paho reads every packet with three or more
`recv` calls (the command byte, each remaining-length byte, the body) after a `select`: at
thousands of small PUBLISH packets a second those system calls were most of the receive
thread's time. `_BufferedSocket` takes up to 64 KiB a call and serves paho's small reads from
memory; it reports what it holds through `pending()`, the hook paho already uses for TLS
sockets, so paho does not wait in `select` while packets are buffered.
"""

from __future__ import annotations

import struct
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devices.brokerurl import BrokerAddress

MQTT5 = mqtt.MQTTv5
MQTT311 = mqtt.MQTTv311


def detect_protocol(addr: BrokerAddress, timeout: float = 5.0) -> int:
    """Connect once with MQTT 5; fall back to 3.1.1 when the broker refuses that version."""
    outcome: dict[str, object] = {}
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTT5)
    _credentials(client, addr)

    def on_connect(c: mqtt.Client, u: object, f: object, rc: object, p: object) -> None:
        outcome["connack"] = rc
        done.set()

    client.on_connect = on_connect
    try:
        client.connect(addr.host, addr.port, keepalive=10)
    except OSError as exc:
        raise ConnectionError(f"MQTT broker {addr.host}:{addr.port} unreachable: {exc}") from exc
    client.loop_start()
    try:
        done.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    rc = outcome.get("connack")
    # Only a clean MQTT 5 CONNACK proves MQTT 5; a 3.1.1-only broker refuses the version or
    # drops the connection, and the real connection then reports any other problem.
    if rc is None or getattr(rc, "is_failure", False):
        return MQTT311
    return MQTT5


def _credentials(client: mqtt.Client, addr: BrokerAddress) -> None:
    if addr.username is not None:
        client.username_pw_set(addr.username, addr.password)
    if addr.tls:
        client.tls_set()


_PUBACK = struct.Struct("!BBH")  # PUBACK, remaining length 2, packet id: paho's own encoding
READ_SIZE = 65536
DRAIN_PACKETS = 512  # packets read per network-loop pass while the buffer holds more


class _BufferedSocket:
    """A socket whose reads come from a buffer filled by large `recv` calls."""

    __slots__ = ("_buf", "_pos", "_sock")

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        """Up to `size` buffered bytes; one `recv` of the socket when the buffer is empty."""
        pos = self._pos
        buf = self._buf
        if pos >= len(buf):
            buf = self._sock.recv(READ_SIZE)  # raises BlockingIOError when nothing is there
            if not buf:
                return buf  # end of stream
            self._buf = buf
            pos = 0
        end = pos + size
        self._pos = end
        return buf[pos:end]

    def pending(self) -> int:
        """Bytes readable without waiting: what is buffered, plus what TLS holds decrypted."""
        held = len(self._buf) - self._pos
        inner = getattr(self._sock, "pending", None)
        return (held if held > 0 else 0) + (inner() if inner is not None else 0)

    def send(self, data: bytes | bytearray) -> int:
        """Send through the socket."""
        return int(self._sock.send(data))

    def fileno(self) -> int:
        """The socket's descriptor, for `select`."""
        return int(self._sock.fileno())

    def close(self) -> None:
        """Close the socket; buffered bytes are dropped with the connection."""
        self._buf = b""
        self._pos = 0
        self._sock.close()

    def setblocking(self, flag: bool) -> None:
        """Set the socket's blocking mode."""
        self._sock.setblocking(flag)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class IngestClient(mqtt.Client):
    """paho's Client with buffered socket reads and a direct `on_message` dispatch.

    Only the plain-TCP and TLS transports are buffered (websockets keep paho's own wrapper).
    With no per-topic callbacks (`message_callback_add`), a message goes straight to
    `on_message` instead of through paho's topic matcher, which cost a generator per message.
    Overrides and reads paho internals (each marked "paho internal"); paho is pinned to the
    tested minor version and tests/unit/ingest/test_paho_internals.py fails if they move.
    """

    def _create_socket(self) -> Any:  # paho internal, overridden: wrap the new socket
        sock = super()._create_socket()
        if self._transport == "websockets":  # paho internal: the transport given to Client()
            return sock
        return _BufferedSocket(sock)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read packets while the buffer holds more (paho reads one per pass otherwise)."""
        rc = super().loop_read(max_packets)
        for _ in range(DRAIN_PACKETS):
            sock = self._sock  # paho internal: the connection's socket (None when closed)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or not isinstance(sock, _BufferedSocket):
                break
            if sock.pending() <= 0:
                break
            rc = super().loop_read(max_packets)
        return rc

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages of the current connection: their PUBACKs go out as one
        write (one wake-up of the network thread and one `send`, not one of each per ack)."""
        if not mids:
            return
        if not self._manual_ack:  # paho internal: Client(manual_ack=...)
            return
        packet = b"".join([_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids])
        self._packet_queue(mqtt.PUBACK, packet, 0, 1)  # paho internal: queue and wake the loop

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:  # paho internal, overridden
        # paho internal: its per-topic callback tree (tests/unit/ingest/test_paho_internals.py)
        if self._on_message_filtered._root._children:  # noqa: SLF001 - any per-topic callback?
            super()._handle_on_message(message)
            return
        on_message = self.on_message
        if on_message is not None:
            with self._in_callback_mutex:  # paho internals: as paho's own dispatch does
                on_message(self, self._userdata, message)


def make_client(
    addr: BrokerAddress, client_id: str, protocol: int, *, manual_ack: bool
) -> mqtt.Client:
    """A client with a persistent session (clean start off), credentials and TLS as given."""
    if protocol == MQTT5:
        client: mqtt.Client = IngestClient(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTT5, manual_ack=manual_ack
        )
    else:
        client = IngestClient(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTT311,
            clean_session=False, manual_ack=manual_ack,
        )
    _credentials(client, addr)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(0.1, 5)
    return client


def connect_properties(session_expiry_s: int, receive_maximum: int) -> Properties:
    """CONNECT properties for MQTT 5: keep the session, and allow a batch's worth in flight."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry_s
    props.ReceiveMaximum = min(receive_maximum, 65535)
    return props
