"""The ingest client's buffered socket reads and batched PUBACKs, without a broker."""

from __future__ import annotations

import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.mqttclient import MQTT5, IngestClient, _BufferedSocket


class FakeSocket:
    """Hands out queued chunks one `recv` at a time; BlockingIOError when none is queued."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.recv_calls = 0

    def recv(self, size: int) -> bytes:
        self.recv_calls += 1
        if not self.chunks:
            raise BlockingIOError
        chunk = self.chunks.pop(0)
        assert len(chunk) <= size
        return chunk


def test_small_reads_are_served_from_one_socket_read() -> None:
    raw = FakeSocket([b"\x30\x05hello\x40"])
    sock = _BufferedSocket(raw)
    assert sock.recv(1) == b"\x30"
    assert sock.pending() == 7
    assert sock.recv(1) == b"\x05"
    assert sock.recv(5) == b"hello"
    assert sock.recv(1) == b"\x40"
    assert raw.recv_calls == 1
    assert sock.pending() == 0


def test_a_read_past_the_buffer_returns_what_is_buffered_then_reads_again() -> None:
    raw = FakeSocket([b"abc", b"defg"])
    sock = _BufferedSocket(raw)
    assert sock.recv(5) == b"abc"  # a short read, like a socket's
    assert sock.recv(5) == b"defg"
    assert raw.recv_calls == 2


def test_an_empty_buffer_and_socket_raise_blocking_and_end_of_stream_is_empty() -> None:
    sock = _BufferedSocket(FakeSocket([]))
    with pytest.raises(BlockingIOError):
        sock.recv(1)
    eof = _BufferedSocket(FakeSocket([b""]))
    assert eof.recv(1) == b""


def test_acks_of_a_batch_are_queued_as_one_write_of_pubacks_in_order() -> None:
    client = IngestClient(CallbackAPIVersion.VERSION2, client_id="t", protocol=MQTT5,
                          manual_ack=True)
    client.ack_many([1, 258, 65535])
    queued = [p["packet"] for p in client._out_packet]  # noqa: SLF001 - paho's send queue, where ack_many writes
    assert queued == [b"\x40\x02\x00\x01" b"\x40\x02\x01\x02" b"\x40\x02\xff\xff"]
    client.ack_many([])
    assert len(client._out_packet) == 1  # noqa: SLF001 - paho's send queue
