"""A client of Mosquitto's `$CONTROL/dynamic-security/v1` API, as the admin account.

Commands go as one JSON document `{"commands": [...]}`; the broker answers on the response
topic with `{"responses": [...]}` in the same order. Each call waits for its answer (matched
by correlation data) or raises `TimeoutError`.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.brokerurl import parse_broker_url
from fixahead.dynsec import CONTROL_TOPIC, RESPONSE_TOPIC

Json = dict[str, Any]


class BrokerControl:
    """A connected control client; `close()` when done (or use it as a context manager)."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        addr = parse_broker_url(url)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._answers: dict[str, list[Json]] = {}
        self._arrived = threading.Condition()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                   client_id=f"fixahead-control-{uuid.uuid4().hex[:8]}",
                                   protocol=mqtt.MQTTv311)
        if addr.username is not None:
            self._client.username_pw_set(addr.username, addr.password)
        self._client.on_message = self._on_message
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *a: subscribed.set()
        self._client.connect(addr.host, addr.port, keepalive=30)
        self._client.loop_start()
        self._client.subscribe(RESPONSE_TOPIC, qos=1)
        if not subscribed.wait(timeout):
            self.close()
            raise TimeoutError(f"broker control at {addr.host}:{addr.port} did not answer")

    def _on_message(self, client: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            responses = json.loads(msg.payload).get("responses", [])
        except ValueError:
            return
        with self._arrived:
            for r in responses:
                tag = r.get("correlationData", "")
                self._answers.setdefault(tag.split(":", 1)[0], []).append(r)
            self._arrived.notify_all()

    def send(self, commands: list[Json]) -> list[Json]:
        """Send commands in one message; return the broker's responses in order."""
        if not commands:
            return []
        with self._lock:
            call = uuid.uuid4().hex
            tagged = [{**c, "correlationData": f"{call}:{i}"} for i, c in enumerate(commands)]
            info = self._client.publish(CONTROL_TOPIC, json.dumps({"commands": tagged}), qos=1)
            info.wait_for_publish(self.timeout)
            with self._arrived:
                # the plugin saves its whole JSON file after each command, so a chunk takes
                # longer the more clients exist (measured: 400 devices announced in 2.5 s,
                # 1,600 in 36 s): allow a quarter second per command beyond the base timeout
                wait = self.timeout + 0.25 * len(commands)
                if not self._arrived.wait_for(
                        lambda: len(self._answers.get(call, [])) >= len(commands), wait):
                    raise TimeoutError(f"broker control answered {len(self._answers.get(call, []))}"
                                       f" of {len(commands)} commands")
                got = self._answers.pop(call)
        return sorted(got, key=lambda r: int(r["correlationData"].split(":", 1)[1]))

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> BrokerControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
