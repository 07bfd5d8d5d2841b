"""paho-mqtt client construction: protocol detection (MQTT 5, else 3.1.1) and session options."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.mqtturl import BrokerAddress

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


def make_client(
    addr: BrokerAddress, client_id: str, protocol: int, *, manual_ack: bool
) -> mqtt.Client:
    """A client with a persistent session (clean start off), credentials and TLS as given."""
    if protocol == MQTT5:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTT5, manual_ack=manual_ack
        )
    else:
        client = mqtt.Client(
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
