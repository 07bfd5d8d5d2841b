"""amqtt's broker, patched so that it loses no QoS 1 message it has acknowledged.

amqtt 0.12.1 (the newest release) loses accepted messages in two places; both are fixed here by
overriding the private methods named below. amqtt is pinned to its minor version
(pyproject.toml) and tests/unit/fixahead/test_amqtt_internals.py fails if they move.

1. Inbound. A client's PUBLISH is PUBACKed once it is on its session's
   `delivered_message_queue`; the per-client loop (`Broker._client_message_loop`) takes it from
   there, asks the topic plugins and puts it on the broadcast queue. When the client
   disconnects that loop ends, and what it had not taken yet stays behind: cleared with a clean
   session, held until the device comes back with a persistent one. amqtt runs every topic
   check as a task and waits for it, so with a topic plugin (ours) the loop yields at each
   message and the reader gets ahead: of 1,000 messages a device sent and left, 486 and 495
   were still queued at its disconnect (0 with no plugins), and ingest stored 512. Here, a
   client's loop hands on everything accepted before it handles the disconnect.
2. Outbound. A QoS 1 delivery waits 5 s for its PUBACK and is then dropped from the session's
   `inflight_out`, as it is when the subscriber disconnects (its waiters are cancelled). Ingest
   acks after its COPY commits, so a slow commit, or a worker that stopped or crashed with
   unacked messages, lost them: nothing was resent when it came back. Here, a delivery stays in
   `inflight_out` until its PUBACK comes, however long that takes; amqtt resends it (DUP) when
   the persistent session reconnects (`ProtocolHandler._retry_deliveries`).
3. Packet ids. A QoS 1 delivery takes one of 65,535 packet ids until its PUBACK; amqtt sends
   a reconnecting worker its whole offline queue at once, and past 65,535 unacknowledged it
   raises and drops the message (70,000 queued: 65,535 stored). Here, at most
   `ReliableHandler.max_inflight` deliveries are unacknowledged per session; the rest wait for
   a PUBACK, and those waiting when the connection ends go back to the session's offline queue
   (or to the connection that took its place).
4. Take-over. When a client connects with the client id of a live persistent session, amqtt
   stops the old connection, whose end then marked the session disconnected: the new
   connection got nothing (deliveries queued offline until it reconnected once more; 0 of
   1,000 for a worker in the test). Here, a connection taken over leaves the session's state
   to the one that took it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from amqtt.broker import Broker, RetainedApplicationMessage
from amqtt.events import BrokerEvents
from amqtt.mqtt.constants import QOS_0
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.mqtt.puback import PubackPacket
from amqtt.session import (
    OUTGOING,
    ApplicationMessage,
    IncomingApplicationMessage,
    OutgoingApplicationMessage,
    Session,
)


class ReliableBroker(Broker):
    """amqtt's `Broker` that hands on every message it acknowledged and keeps every QoS 1
    delivery until the subscriber acknowledges it."""

    async def _initialize_client_session(self, reader: Any, writer: Any, remote_address: str,
                                         remote_port: int
                                         ) -> tuple[BrokerProtocolHandler, Session]:
        # amqtt internal: the handler comes from BrokerProtocolHandler.init_from_connect, still
        # unattached (its session is attached in _handle_client_session): use ours instead
        _, session = await super()._initialize_client_session(reader, writer, remote_address,
                                                              remote_port)
        current = self._sessions.get(session.client_id or "")
        if (current is not None and current[0] is session
                and isinstance(current[1], ReliableHandler)
                and session.transitions.state == "connected"):
            # this connection takes a live persistent session over: the old connection's end
            # must not mark the session disconnected (amqtt did, and then queued the new
            # connection's deliveries offline until it reconnected once more)
            current[1].taken_over = True
        return ReliableHandler(self.plugins_manager, broker=self), session

    async def _handle_disconnect(self, client_session: Session, handler: BrokerProtocolHandler,
                                 disconnect_waiter: asyncio.Future[Any]) -> None:
        # amqtt internal, replaced: as amqtt's, but a connection taken over leaves the
        # session's state to the connection that took it
        if not getattr(handler, "taken_over", False):
            await super()._handle_disconnect(client_session, handler, disconnect_waiter)
            return
        await self._stop_handler(handler)
        await self.plugins_manager.fire_event(BrokerEvents.CLIENT_DISCONNECTED,
                                              client_id=client_session.client_id,
                                              client_session=client_session)

    async def deliver_again(self, session: Session, topic: str, data: bytes | bytearray,
                            qos: int) -> None:
        """Send a delivery that a finished connection could not send: to the session's
        current connection, else into its offline queue (a clean session's is gone with it)."""
        handler = self._get_handler(session)
        if (session.transitions.state == "connected" and isinstance(handler, ReliableHandler)
                and not handler.stopped):
            await handler.mqtt_publish(topic, data, qos, retain=False)
        elif not session.clean_session:
            await session.retained_messages.put(
                RetainedApplicationMessage(None, topic, data, qos))

    async def _client_message_loop(self, client_session: Session,
                                   handler: BrokerProtocolHandler) -> None:
        # amqtt internal, replaced: amqtt's loop left what it had not yet taken from the
        # session's queue behind at a disconnect (this module's docstring, item 1)
        disconnect = asyncio.ensure_future(handler.wait_disconnect())
        subscribe = asyncio.ensure_future(handler.get_next_pending_subscription())
        unsubscribe = asyncio.ensure_future(handler.get_next_pending_unsubscription())
        deliver = asyncio.ensure_future(handler.mqtt_deliver_next_message())
        try:
            while True:
                done, _ = await asyncio.wait([disconnect, subscribe, unsubscribe, deliver],
                                             return_when=asyncio.FIRST_COMPLETED)
                valid = True
                if deliver in done:
                    valid = await self._handle_message_delivery(client_session, handler, deliver)
                    deliver = asyncio.ensure_future(handler.mqtt_deliver_next_message())
                if subscribe in done:
                    await self._handle_subscription(client_session, handler, subscribe)
                    subscribe = asyncio.ensure_future(handler.get_next_pending_subscription())
                if unsubscribe in done:
                    await self._handle_unsubscription(client_session, handler, unsubscribe)
                    unsubscribe = asyncio.ensure_future(
                        handler.get_next_pending_unsubscription())
                if disconnect in done or not valid:
                    # a protocol violation (amqtt's False) ends the connection as a drop does
                    await self._hand_on_accepted(client_session, handler, deliver)
                    await self._handle_disconnect(client_session, handler,
                                                  disconnect if disconnect in done
                                                  else _done(None))
                    break
        except asyncio.CancelledError:
            self.logger.debug("Client loop cancelled")
        finally:
            waiters = [disconnect, subscribe, unsubscribe, deliver]
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def _hand_on_accepted(self, session: Session, handler: BrokerProtocolHandler,
                                deliver: asyncio.Future[Any]) -> None:
        """Broadcast every message the client was acknowledged for that is not broadcast yet:
        the one `deliver` may have taken, then the rest of the session's queue, in order."""
        deliver.cancel()
        await asyncio.gather(deliver, return_exceptions=True)
        if not deliver.cancelled() and deliver.exception() is None and deliver.result():
            await self._handle_message_delivery(session, handler, deliver)
        queue = session.delivered_message_queue
        while not queue.empty():
            message: ApplicationMessage = queue.get_nowait()
            await self._handle_message_delivery(session, handler, _done(message))


class ReliableHandler(BrokerProtocolHandler):
    """amqtt's broker-side protocol handler whose QoS 1 deliveries wait for their PUBACK with
    no timeout and stay in the session's `inflight_out` until it comes, at most
    `max_inflight` at a time."""

    max_inflight = 60_000  # below the 65,535 packet ids, with room for QoS 2's own

    def __init__(self, plugins_manager: Any, *, broker: ReliableBroker | None = None) -> None:
        super().__init__(plugins_manager)
        self._broker = broker
        self._window = asyncio.Condition()
        self.stopped = False
        self.taken_over = False  # set when a new connection takes this one's session over

    async def stop(self) -> None:
        """Stop, and send deliveries still waiting for the window elsewhere."""
        self.stopped = True
        async with self._window:
            self._window.notify_all()
        await super().stop()

    async def mqtt_publish(self, topic: str, data: bytes | bytearray, qos: int | None,
                           retain: bool, ack_timeout: int | None = None
                           ) -> OutgoingApplicationMessage:
        """amqtt's publish, once the session has fewer than `max_inflight` unacknowledged
        deliveries; after this connection ended, hand it to `ReliableBroker.deliver_again`."""
        session = self.session
        if qos is not None and qos != QOS_0 and session is not None:
            async with self._window:
                await self._window.wait_for(
                    lambda: self.stopped or len(session.inflight_out) < self.max_inflight)
            if self.stopped and self._broker is not None:
                await self._broker.deliver_again(session, topic, data, qos)
                return OutgoingApplicationMessage(None, topic, qos, data, retain)
        # no await between the check and amqtt taking a packet id and filling inflight_out
        return await super().mqtt_publish(topic, data, qos, retain, ack_timeout)

    async def _settled(self) -> None:
        async with self._window:
            self._window.notify(1)

    async def _handle_qos1_message_flow(
            self, app_message: OutgoingApplicationMessage | IncomingApplicationMessage) -> None:
        # amqtt internal, replaced for outgoing messages (this module's docstring, item 2)
        if app_message.direction != OUTGOING or self.session is None:
            await super()._handle_qos1_message_flow(app_message)
            return
        packet_id = app_message.packet_id
        if packet_id is None or app_message.puback_packet is not None:
            raise ValueError(f"not an unacknowledged QoS 1 message: {app_message!r}")
        assert isinstance(app_message, OutgoingApplicationMessage)
        self.session.inflight_out[packet_id] = app_message
        # the waiter exists before the PUBLISH leaves: a fast PUBACK finds it
        waiter: asyncio.Future[PubackPacket] = self._loop.create_future()
        self._puback_waiters[packet_id] = waiter
        try:
            packet = app_message.build_publish_packet(dup=app_message.publish_packet is not None)
            await self._send_packet(packet)
            app_message.publish_packet = packet
            app_message.puback_packet = await waiter
        finally:
            if self._puback_waiters.get(packet_id) is waiter:
                del self._puback_waiters[packet_id]
        self.session.inflight_out.pop(packet_id, None)  # only once acknowledged
        await self._settled()

    async def handle_puback(self, puback: PubackPacket) -> None:
        """A PUBACK nobody waits for any more (its resend was cut short) still settles its
        message."""
        header = puback.variable_header
        if (header is not None and header.packet_id not in self._puback_waiters
                and self.session is not None):
            self.session.inflight_out.pop(header.packet_id, None)
            await self._settled()
            return
        await super().handle_puback(puback)


def _done(value: object) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future
