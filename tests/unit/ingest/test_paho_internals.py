"""The paho internals `ingest.mqttclient.IngestClient` overrides or reads are still there.

paho is pinned to one minor version (pyproject.toml); when that pin moves, this says loudly
which internal moved, before the ingest client misbehaves at run time.
"""

from __future__ import annotations

import inspect
import threading
from collections import deque
from importlib.metadata import version

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

PINNED = "2.2."  # pyproject.toml: paho-mqtt>=2.2,<2.3


def _params(fn: object) -> list[str]:
    return list(inspect.signature(fn).parameters)  # type: ignore[arg-type]


def test_paho_is_the_minor_version_these_checks_were_written_for() -> None:
    assert version("paho-mqtt").startswith(PINNED), (
        f"paho-mqtt {version('paho-mqtt')} installed, ingest.mqttclient was checked against "
        f"{PINNED}x: re-check its overrides, then move the pin and this test")


@pytest.mark.parametrize(("method", "params"), [
    ("_create_socket", ["self"]),                          # overridden: wraps the socket
    ("_handle_on_message", ["self", "message"]),           # overridden: direct dispatch
    ("loop_read", ["self", "max_packets"]),                # overridden: drains the buffer
    ("_packet_queue", ["self", "command", "packet", "mid", "qos", "info"]),  # ack_many
    ("_sock_recv", ["self", "bufsize"]),                   # paho's reads go through the socket
])
def test_the_methods_we_override_or_call_keep_their_signatures(method: str,
                                                               params: list[str]) -> None:
    fn = getattr(mqtt.Client, method, None)
    assert fn is not None, f"paho's Client.{method} is gone"
    assert _params(fn) == params, f"paho's Client.{method} now takes {_params(fn)}"


def test_the_attributes_we_read_exist_with_the_types_we_expect() -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t", manual_ack=True,
                         userdata="u")
    assert client._manual_ack is True  # noqa: SLF001 - checking paho internals is the point
    assert client._transport == "tcp"  # noqa: SLF001 - checking paho internals is the point
    assert client._sock is None  # noqa: SLF001 - checking paho internals is the point
    assert client._userdata == "u"  # noqa: SLF001 - checking paho internals is the point
    lock = client._in_callback_mutex  # noqa: SLF001 - checking paho internals is the point
    assert isinstance(lock, type(threading.Lock()))
    assert isinstance(client._out_packet, deque)  # noqa: SLF001 - checking paho internals
    matcher = client._on_message_filtered  # noqa: SLF001 - checking paho internals is the point
    assert matcher._root._children == {}  # noqa: SLF001 - checking paho internals is the point
    client.message_callback_add("a/#", lambda *a: None)
    assert matcher._root._children  # noqa: SLF001 - a per-topic callback shows there


def test_queued_packets_are_dicts_holding_the_bytes() -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t")
    client._packet_queue(mqtt.PUBACK, b"\x40\x02\x00\x01", 0, 1)  # noqa: SLF001 - as ack_many
    queued = client._out_packet[-1]  # noqa: SLF001 - checking paho internals is the point
    assert queued["packet"] == b"\x40\x02\x00\x01" and queued["command"] == mqtt.PUBACK


def test_the_network_loop_still_asks_the_socket_for_pending_bytes() -> None:
    # the buffered socket reports what it holds through `pending()`, like an SSL socket: paho
    # must keep skipping `select` when there is some, or buffered packets would wait
    loop = inspect.getsource(mqtt.Client._loop)  # noqa: SLF001 - checking paho internals
    assert "self._sock.pending()" in loop
    recv = inspect.getsource(mqtt.Client._sock_recv)  # noqa: SLF001 - checking paho internals
    assert "self._sock.recv(" in recv
    handle = inspect.getsource(mqtt.Client._handle_on_message)  # noqa: SLF001 - as above
    assert "_on_message_filtered" in handle and "on_message" in handle
