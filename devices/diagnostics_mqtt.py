"""The platform side of remote diagnostics over MQTT (aiomqtt, as the platform account).

`DiagnosticsLink.run()` subscribes to every device's `status` (retained, so the online map is
known at once) and `replies`; it publishes pending requests of devices that are online (at
once when a device comes online or, with `listen_url`, when a request is created: its
NOTIFY; else on each tick), expires overdue requests, and stores replies through
`diagnostics_store.store_reply`. Publishing comes before recording the request
as sent: a crash in between sends the command again (at least once); the second result is
refused as `already_answered`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import aiomqtt
import psycopg

from devices import diagnostics_store as store
from devices.commands import encode_command
from devices.diagnostics import Request, State
from devices.diagnostics_store import store_reply
from devices.protocol import ProtocolError, decode_status
from devices.topics import parse_topic, subscription, topic_for

__all__ = ["DiagnosticsLink", "serve", "store_reply"]

log = logging.getLogger(__name__)
Connect = Callable[[], psycopg.Connection]


def _now() -> datetime:
    return datetime.now(UTC)


class DiagnosticsLink:
    """Publish diagnostics commands and receive replies; see the module docstring."""

    def __init__(self, connect: Connect, *, hostname: str, port: int, username: str | None,
                 password: str | None, prefix: str = "fixahead/v1", poll_s: float = 1.0,
                 clock: Callable[[], datetime] = _now, identifier: str | None = None,
                 listen_url: str | None = None) -> None:
        self.connect = connect
        self.listen_url = listen_url  # LISTEN for new requests: publish without waiting
        self.mqtt = {"hostname": hostname, "port": port, "username": username,
                     "password": password, "identifier": identifier}
        self.prefix = prefix
        self.poll_s = poll_s
        self.clock = clock
        self.online: dict[str, bool] = {}
        self.ready = asyncio.Event()  # subscribed
        self.published = 0
        self.stored = 0
        self.refused = 0
        self.resent = 0
        self.reconnects = 0

    @classmethod
    def from_url(cls, connect: Connect, url: str, **kwargs: object) -> DiagnosticsLink:
        """A link to the broker at `mqtt://user:password@host:port` (the platform account)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"MQTT URL {url!r}: need mqtt://user:password@host:port")
        return cls(connect, hostname=parts.hostname, port=parts.port or 1883,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   **kwargs)  # type: ignore[arg-type]

    def _db(self, fn: Callable[..., object], *args: object, **kwargs: object) -> object:
        with self.connect() as conn:
            return fn(conn, *args, **kwargs)

    async def _call(self, fn: Callable[..., object], *args: object, **kwargs: object) -> object:
        return await asyncio.to_thread(self._db, fn, *args, **kwargs)

    async def _publish(self, client: aiomqtt.Client, req: Request) -> None:
        topic = topic_for(self.prefix, req.device_id, "commands")
        await client.publish(topic, encode_command(req.command()), qos=1)
        if await self._call(store.record_sent, req.request_id, now=self.clock()):
            self.published += 1

    async def flush(self, client: aiomqtt.Client, device_ids: list[str] | None = None, *,
                    resend: bool = False) -> None:
        """Expire overdue requests and publish the pending ones of online devices (with
        `resend`, also those sent but never acknowledged: the device may have missed them)."""
        now = self.clock()
        await self._call(store.expire_due, now=now)
        online = [d for d, up in self.online.items() if up]
        if device_ids is not None:
            online = [d for d in device_ids if self.online.get(d)]
        if not online:
            return
        if resend:
            unacked = await self._call(store.pending_for, online, now=now, state=State.SENT)
            for req in unacked:  # type: ignore[attr-defined]
                await client.publish(topic_for(self.prefix, req.device_id, "commands"),
                                     encode_command(req.command()), qos=1)
                self.resent += 1
        pending = await self._call(store.pending_for, online, now=now)
        for req in pending:  # type: ignore[attr-defined]
            await self._publish(client, req)

    async def _handle(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        try:
            topic = parse_topic(str(message.topic), self.prefix)
        except ValueError:
            return
        payload = bytes(message.payload) if isinstance(message.payload, bytes | bytearray) \
            else str(message.payload).encode()
        if topic.channel == "status":
            try:
                online = decode_status(payload).online
            except ProtocolError:
                return
            self.online[topic.device_id] = online
            if online:  # back online: it may have missed what was sent before it left
                await self.flush(client, [topic.device_id], resend=True)
        elif topic.channel == "replies":
            result = await self._call(store.store_reply, topic.device_id, payload,
                                      now=self.clock())
            if result.accepted:  # type: ignore[attr-defined]
                self.stored += 1
            else:
                self.refused += 1
                log.info("refused a reply of %s: %s %s", topic.device_id,
                         result.reason, result.detail)  # type: ignore[attr-defined]

    async def run(self, stop: asyncio.Event | None = None, *, retry_s: float = 1.0) -> None:
        """Serve until `stop` is set (or forever), reconnecting after a lost connection."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self._session(stop)
            except (aiomqtt.MqttError, psycopg.OperationalError) as exc:
                self.ready.clear()
                self.reconnects += 1
                log.warning("diagnostics link lost (%s); reconnecting in %.1f s", exc, retry_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), retry_s)

    async def _session(self, stop: asyncio.Event) -> None:
        async with aiomqtt.Client(**self.mqtt) as client:  # type: ignore[arg-type]
            await client.subscribe(subscription(self.prefix, "status"), qos=1)
            await client.subscribe(subscription(self.prefix, "replies"), qos=1)
            self.ready.set()

            async def tick() -> None:
                while not stop.is_set():
                    try:
                        await self.flush(client)
                    except psycopg.Error:
                        log.exception("diagnostics tick failed")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.poll_s)

            async def read() -> None:
                async for message in client.messages:
                    try:
                        await self._handle(client, message)
                    except psycopg.Error:  # QoS 1 already acked: the reply is lost, say so
                        log.exception("storing a diagnostics message failed: %s",
                                      message.topic)

            async def listen(url: str) -> None:
                aconn = await psycopg.AsyncConnection.connect(url, autocommit=True)
                async with aconn:
                    await aconn.execute(f"LISTEN {store.CHANNEL}")
                    async for note in aconn.notifies():
                        await self.flush(client, [note.payload])

            tasks: list[asyncio.Task[object]] = [
                asyncio.create_task(tick()), asyncio.create_task(read()),
                asyncio.create_task(stop.wait())]
            if self.listen_url is not None:
                tasks.append(asyncio.create_task(listen(self.listen_url)))
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            for task in done:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error


def serve(link: DiagnosticsLink, stop: threading.Event) -> None:
    """Run `link` in this (non-async) thread until `stop` is set: for a thread of its own."""

    async def main() -> None:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()

        def bridge() -> None:
            stop.wait()
            loop.call_soon_threadsafe(done.set)

        threading.Thread(target=bridge, name="diagnostics-stop", daemon=True).start()
        await link.run(done)

    asyncio.run(main())
