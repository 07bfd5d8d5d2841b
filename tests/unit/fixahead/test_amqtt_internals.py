"""The amqtt internals `fixahead.amqttbroker` overrides or calls are still there.

amqtt is pinned to one minor version (pyproject.toml); when that pin moves, this says loudly
which internal moved, before the embedded broker loses messages again at run time.
"""

from __future__ import annotations

import asyncio
import inspect
from importlib.metadata import version

import pytest
from amqtt.broker import Broker, RetainedApplicationMessage
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.mqtt.protocol.handler import ProtocolHandler
from amqtt.session import Session

from fixahead.amqttbroker import ReliableBroker, ReliableHandler

PINNED = "0.12."  # pyproject.toml: amqtt>=0.12,<0.13


def _params(fn: object) -> list[str]:
    return list(inspect.signature(fn).parameters)  # type: ignore[arg-type]


def test_amqtt_is_the_minor_version_these_checks_were_written_for() -> None:
    assert version("amqtt").startswith(PINNED), (
        f"amqtt {version('amqtt')} installed, fixahead.amqttbroker was checked against "
        f"{PINNED}x: re-check its overrides, then move the pin and this test")


@pytest.mark.parametrize(("owner", "method", "params"), [
    (Broker, "_initialize_client_session",  # overridden: our handler instead of amqtt's
     ["self", "reader", "writer", "remote_address", "remote_port"]),
    (Broker, "_client_message_loop", ["self", "client_session", "handler"]),  # replaced
    (Broker, "_handle_message_delivery", ["self", "client_session", "handler", "wait_deliver"]),
    (Broker, "_handle_subscription", ["self", "client_session", "handler", "subscribe_waiter"]),
    (Broker, "_handle_unsubscription",
     ["self", "client_session", "handler", "unsubscribe_waiter"]),
    (Broker, "_handle_disconnect", ["self", "client_session", "handler", "disconnect_waiter"]),
    (BrokerProtocolHandler, "wait_disconnect", ["self"]),
    (BrokerProtocolHandler, "get_next_pending_subscription", ["self"]),
    (BrokerProtocolHandler, "get_next_pending_unsubscription", ["self"]),
    (ProtocolHandler, "mqtt_deliver_next_message", ["self"]),
    (ProtocolHandler, "_handle_qos1_message_flow", ["self", "app_message"]),  # replaced
    (ProtocolHandler, "handle_puback", ["self", "puback"]),  # overridden
    (ProtocolHandler, "_send_packet", ["self", "packet"]),
    (ProtocolHandler, "mqtt_publish",  # overridden: waits for the in-flight window
     ["self", "topic", "data", "qos", "retain", "ack_timeout"]),
    (BrokerProtocolHandler, "stop", ["self"]),  # overridden: sends waiting deliveries elsewhere
    (BrokerProtocolHandler, "__init__", ["self", "plugins_manager", "session", "loop"]),
    (Broker, "_get_handler", ["self", "session"]),
    (Broker, "_stop_handler", ["self", "handler"]),
    (RetainedApplicationMessage, "__init__",
     ["self", "source_session", "topic", "data", "qos"]),
])
def test_the_methods_we_override_or_call_keep_their_signatures(owner: type, method: str,
                                                               params: list[str]) -> None:
    fn = getattr(owner, method, None)
    assert fn is not None, f"amqtt's {owner.__name__}.{method} is gone"
    assert _params(fn) == params, f"amqtt's {owner.__name__}.{method} now takes {_params(fn)}"


def test_the_broker_still_routes_through_the_methods_we_replace() -> None:
    session = inspect.getsource(Broker._handle_client_session)  # noqa: SLF001 - the point
    assert "self._client_message_loop(" in session  # our loop runs every connection
    init = inspect.getsource(Broker._initialize_client_session)  # noqa: SLF001 - the point
    assert "BrokerProtocolHandler.init_from_connect(" in init  # the handler we replace
    flow = inspect.getsource(ProtocolHandler._handle_message_flow)  # noqa: SLF001 - the point
    assert "self._handle_qos1_message_flow(" in flow
    retry = inspect.getsource(ProtocolHandler._retry_deliveries)  # noqa: SLF001 - the point
    assert "self.session.inflight_out" in retry  # what we keep is what a reconnect resends
    publish = inspect.getsource(Broker._publish_session_retained_messages)  # noqa: SLF001
    assert "session.retained_messages" in publish  # the offline queue deliver_again fills
    assert "handler.mqtt_publish(" in publish  # ... goes through the window too
    takeover = inspect.getsource(Broker._handle_client_session)  # noqa: SLF001 - the point
    assert "performing take-over" in takeover  # the case _handle_disconnect tells apart
    assert "self._sessions[client_session.client_id] = (client_session, handler)" in takeover
    assert "client_session.transitions.disconnect()" in inspect.getsource(
        Broker._handle_disconnect)  # noqa: SLF001 - what a taken-over connection must skip
    send = inspect.getsource(ProtocolHandler.mqtt_publish)
    assert "self.session.next_packet_id" in send  # a packet id is taken before any await


def test_the_session_and_handler_state_we_use_exist() -> None:
    session = Session()
    assert session.inflight_out == {}
    assert session.delivered_message_queue.empty()
    assert session.retained_messages.empty()
    assert session.transitions.state == "new"

    async def make() -> ReliableHandler:
        return ReliableHandler(None)  # type: ignore[arg-type]

    handler = asyncio.run(make())
    assert handler._puback_waiters == {}  # noqa: SLF001 - checking amqtt internals is the point
    assert isinstance(handler, BrokerProtocolHandler)
    assert issubclass(ReliableBroker, Broker)
    assert 0 < ReliableHandler.max_inflight < 65_535
