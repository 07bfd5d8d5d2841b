"""The embedded MQTT broker (amqtt, MQTT 3.1.1, patched to lose no acknowledged QoS 1 message:
fixahead/amqttbroker.py) run on its own thread and event loop."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedBroker:
    """An amqtt broker on 127.0.0.1:`port`; `start()` returns its mqtt:// URL."""

    def __init__(self, port: int, *, auth: dict[str, Any] | None = None) -> None:
        self.port = port
        self._auth = auth
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """The broker's URL."""
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start the broker thread and wait until it accepts connections."""
        self._thread = threading.Thread(target=self._main, name="embedded-mqtt", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"embedded MQTT broker failed on port {self.port}: {self._error}")
        return self.url  # Broker.start() returns once its listeners accept connections

    def _main(self) -> None:
        from fixahead.amqttbroker import ReliableBroker

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        if self._auth:
            config["plugins"] = self._auth
        try:
            loop.run_until_complete(self._create(ReliableBroker, config))
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _create(self, broker_cls: Any, config: dict[str, Any]) -> None:
        self._broker = broker_cls(config)
        await self._broker.start()

    def stop(self) -> None:
        """Shut the broker down and join its thread."""
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or not loop.is_running():
            return
        future = asyncio.run_coroutine_threadsafe(broker.shutdown(), loop)
        try:
            future.result(10)
        except Exception:
            log.exception("embedded broker shutdown failed")
        loop.call_soon_threadsafe(loop.stop)
        if self._thread:
            self._thread.join(10)
