"""The embedded amqtt broker enforces the same accounts and topic rules as Mosquitto."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.provisioning import register, revoke
from fixahead.broker_auth import INGEST, prepare_embedded
from fixahead.embedded_mqtt import EmbeddedBroker
from tests.support.services import free_port

pytestmark = [
    pytest.mark.integration,
    # amqtt 0.12 leaves the socket of a connection it refused unclosed (its bug, not ours)
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


def connect(port: int, username: str, password: str, client_id: str | None = None
            ) -> tuple[mqtt.Client, list, int]:
    """A connected (or refused) MQTT 3.1.1 client, its received messages, its CONNACK code;
    its client id is its username (what a device must use) unless given."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311,
                         client_id=username if client_id is None else client_id)
    client.username_pw_set(username, password)
    messages: list[tuple[str, bytes]] = []
    result: list[int] = []
    client.on_connect = lambda c, u, f, rc, p: result.append(rc.value)
    client.on_message = lambda c, u, m: messages.append((m.topic, m.payload))
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 5
    while not result and time.monotonic() < deadline:
        time.sleep(0.02)
    return client, messages, result[0] if result else -1


@pytest.fixture
def embedded(database_url: str, tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """An embedded broker on the registry's password file; the devices' secrets."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        secrets = {d: register(conn, model_id="WM-800", device_id=d, actor="t")[1]
                   for d in ("emb-a", "emb-b")}
        auth, user, password = prepare_embedded(conn, tmp_path)
    secrets[user] = password
    broker = EmbeddedBroker(free_port(), auth=auth)
    broker.start()
    try:
        yield broker.port, secrets
    finally:
        broker.stop()
        gc.collect()  # surface amqtt's leaked sockets here, under this module's filters


def test_embedded_broker_refuses_a_wrong_secret(embedded) -> None:
    port, secrets = embedded
    client, _, code = connect(port, "emb-a", "wrong")
    client.loop_stop()
    assert code != 0
    client, _, code = connect(port, "emb-a", secrets["emb-a"])
    client.disconnect()
    client.loop_stop()
    assert code == 0


def test_embedded_broker_keeps_a_device_to_its_own_topics(embedded) -> None:
    port, secrets = embedded
    ingest, seen, code = connect(port, INGEST, secrets[INGEST])
    assert code == 0
    ingest.subscribe("fixahead/v1/+/telemetry", qos=1)
    time.sleep(0.3)
    device, _, _ = connect(port, "emb-a", secrets["emb-a"])
    device.publish("fixahead/v1/emb-b/telemetry", b"forged", qos=1)
    device.publish("fixahead/v1/emb-a/telemetry", b"mine", qos=1)
    deadline = time.monotonic() + 3
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    for c in (ingest, device):
        c.disconnect()
        c.loop_stop()
    assert seen == [("fixahead/v1/emb-a/telemetry", b"mine")]


def test_embedded_broker_refuses_a_revoked_device_once_files_are_regenerated(
        embedded, database_url: str, tmp_path: Path) -> None:
    port, secrets = embedded
    with psycopg.connect(database_url, autocommit=True) as conn:
        revoke(conn, "emb-b", actor="t")
        time.sleep(0.01)  # a new mtime for the password file
        prepare_embedded(conn, tmp_path)
    client, _, code = connect(port, "emb-b", secrets["emb-b"])
    client.loop_stop()
    assert code != 0


def test_embedded_broker_refuses_other_client_ids_and_shared_subscriptions_to_a_device(
        embedded) -> None:
    port, secrets = embedded
    for cid in ("fixahead-ingest-1", "emb-b", "anything"):
        client, _, code = connect(port, "emb-a", secrets["emb-a"], client_id=cid)
        client.loop_stop()
        assert code != 0, cid
    ingest, seen, _ = connect(port, INGEST, secrets[INGEST], client_id="fixahead-ingest-1")
    ingest.subscribe("fixahead/v1/+/telemetry", qos=1)
    thief, stolen, code = connect(port, "emb-a", secrets["emb-a"])
    assert code == 0
    thief.subscribe("$share/ingest/fixahead/v1/+/telemetry", qos=1)
    thief.subscribe("fixahead/v1/+/telemetry", qos=1)
    time.sleep(0.3)
    sender, _, _ = connect(port, "emb-b", secrets["emb-b"])
    for i in range(20):
        sender.publish("fixahead/v1/emb-b/telemetry", b"%d" % i, qos=1)
    deadline = time.monotonic() + 5
    while len(seen) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    for c in (ingest, thief, sender):
        c.disconnect()
        c.loop_stop()
    assert len(seen) == 20 and stolen == []
