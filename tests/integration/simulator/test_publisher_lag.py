"""No connection of the fleet publisher lags the newest message by more than `max_lag_ms` of
simulated time: a connection the broker does not acknowledge holds the others back."""

from __future__ import annotations

import socket
import threading
import zlib

import pytest

from simulator.publisher import FleetPublisher

pytestmark = pytest.mark.integration


class AckingBroker:
    """Just enough of an MQTT broker: CONNACK, then a PUBACK per PUBLISH, except on the
    connections of client ids ending in `-c0` while `hold` is set."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.hold = threading.Event()
        self.lock = threading.Lock()
        self.conns: list[socket.socket] = []
        self.pending: dict[socket.socket, list[bytes]] = {}
        threading.Thread(target=self._accept, daemon=True).start()

    def release(self) -> None:
        """Stop holding: acknowledge what was held."""
        with self.lock:
            self.hold.clear()
            for conn, acks in self.pending.items():
                conn.sendall(b"".join(acks))
                acks.clear()

    def close(self) -> None:
        self.server.close()
        for conn in self.conns:
            conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _packets(conn: socket.socket):  # type: ignore[no-untyped-def]
        buf = b""
        while data := conn.recv(65536):
            buf += data
            while len(buf) >= 2:
                length, mult, i = 0, 1, 1
                while buf[i] & 0x80:
                    length += (buf[i] & 0x7F) * mult
                    mult, i = mult * 128, i + 1
                    if i >= len(buf):
                        break
                else:
                    length += buf[i] * mult
                    if len(buf) < i + 1 + length:
                        break
                    yield buf[0], buf[i + 1:i + 1 + length]
                    buf = buf[i + 1 + length:]
                    continue
                break

    def _serve(self, conn: socket.socket) -> None:
        held = False
        pending = self.pending.setdefault(conn, [])
        try:
            for head, body in self._packets(conn):
                if head >> 4 == 1:  # CONNECT: the client id follows the 10-byte header
                    n = (body[10] << 8) | body[11]
                    held = body[12:12 + n].decode().endswith("-c0")
                    conn.sendall(b"\x20\x02\x00\x00")
                elif head >> 4 == 3:  # PUBLISH QoS 1: topic, then the packet id
                    t = (body[0] << 8) | body[1]
                    with self.lock:
                        pending.append(b"\x40\x02" + body[2 + t:4 + t])
                        if not (held and self.hold.is_set()):
                            conn.sendall(b"".join(pending))
                            pending.clear()
        except OSError:
            pass


def _device_on(connection: int) -> str:
    return next(d for d in (f"dev-{i}" for i in range(100))
                if zlib.crc32(d.encode()) % 2 == connection)


def test_a_connection_the_broker_does_not_acknowledge_holds_the_others_back() -> None:
    broker = AckingBroker()
    slow, fast = _device_on(0), _device_on(1)
    broker.hold.set()
    with FleetPublisher(f"mqtt://127.0.0.1:{broker.port}", connections=2,
                        max_lag_ms=60_000) as pub:
        pub.send(slow, "t/slow", b"x", sim_ms=0)  # never acknowledged while held
        done = threading.Event()

        def fast_stream() -> None:
            for k in range(1, 2001):  # one message per simulated second, past the bound
                pub.send(fast, "t/fast", b"x", sim_ms=k * 1000)
            done.set()

        worker = threading.Thread(target=fast_stream, daemon=True)
        worker.start()
        assert not done.wait(2.0)  # held back: the slow connection lags by over a minute
        assert pub.progress.published < 2000
        broker.release()  # the broker takes the slow connection's publish: the rest goes on
        worker.join(10.0)
        assert done.is_set() and pub.progress.published == 2001
    broker.close()
