"""A small paho MQTT client (5, or 3.1.1 for the embedded broker) for access tests: connect
result, messages, disconnects."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class Client:
    """A paho MQTT 5 client that records its connect result, messages and disconnects."""

    def __init__(self, port: int, username: str, password: str, client_id: str = "",
                 protocol: int = mqtt.MQTTv5) -> None:
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.subacks: list[list[int]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=protocol)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda c, u, f, rc, p: self.disconnected.set()
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subacks.append(
            [r.value for r in rcs])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.connected.wait(5)

    def _on_connect(self, client: object, userdata: object, flags: object,
                    reason: mqtt.ReasonCode, props: object) -> None:
        self.reason = reason
        self.connected.set()
        if reason.is_failure:
            self.disconnected.set()

    @property
    def accepted(self) -> bool:
        """Whether the broker accepted the connection."""
        return self.reason is not None and not self.reason.is_failure

    def subscribe(self, topic: str) -> list[int]:
        """Subscribe and return the SUBACK reason codes."""
        before = len(self.subacks)
        self.client.subscribe(topic, qos=1)
        deadline = time.monotonic() + 5
        while len(self.subacks) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.subacks[-1]

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Publish and wait until it was sent (with QoS 1: for the broker's answer)."""
        self.client.publish(topic, payload, qos=qos).wait_for_publish(5)

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
