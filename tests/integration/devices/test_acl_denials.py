"""What the broker refuses a device is visible: a `$share` subscription and a publish to another
device's topic become `acl_denied` dead letters (device, topic, access, count) and count in
`fixahead_ingest_acl_denials` within seconds, on Mosquitto (with Fixahead's audit plugin) and
on the embedded broker, while another device's traffic is fully stored."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from fixahead.brokeraudit import missing_tools
from fixahead.services import Endpoints, broker
from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from ingest import list_dead_letters
from ingest.metrics import IngestMetrics
from tests.support.device_client import Client
from tests.support.mqtt import Publisher, running_worker, wait_for
from tests.support.services import free_port, mosquitto_binary
from tests.support.traffic import new_device, stored, telemetry_messages

pytestmark = [
    pytest.mark.integration,
    # amqtt 0.12 leaves the socket of a connection it refused unclosed (its bug, not ours)
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]
PREFIX = "fixahead/v1"
SHARE = f"$share/ingest/{PREFIX}/+/telemetry"
OTHERS = f"{PREFIX}/wm-healthy/telemetry"
FORGED = 5


def _needs(kind: str) -> None:
    if kind == "mosquitto":
        if mosquitto_binary() is None:
            pytest.skip("needs Mosquitto: apt-get install mosquitto")
        missing = missing_tools()
        if missing is not None:
            pytest.fail(f"the broker audit plugin cannot be built: {missing}")


@pytest.fixture(params=["mosquitto", "amqtt"])
def platform(request: pytest.FixtureRequest, database_url: str) -> Iterator[tuple[Endpoints, int,
                                                                                   object]]:
    """The broker `fixahead up` runs (Mosquitto, or the embedded amqtt), on the registry."""
    _needs(request.param)
    tmp = Path(tempfile.mkdtemp(prefix="fxacl-"))
    tmp.chmod(0o711)  # Mosquitto started as root runs as `mosquitto`
    port = free_port()
    settings = load_settings({}, data_dir=str(tmp), embedded_mqtt_port=port,
                             embedded_broker=request.param, ingest_client_id="fixahead-ingest-1")
    try:
        with broker(settings, database_url) as ends:
            time.sleep(0.5)  # the sync's LISTEN is in place
            yield ends, port, settings
    finally:
        shutil.rmtree(tmp, ignore_errors=True)



def denials(ends: Endpoints) -> list[tuple[str | None, str, dict]]:
    """(device, topic, notice) of every `acl_denied` dead letter, oldest first."""
    with psycopg.connect(ends.database_url) as conn:
        letters = list_dead_letters(conn, reason="acl_denied")
    return [(d.device_id, d.topic, json.loads(d.payload)) for d in reversed(letters)]


def forge(port: int, secret: str, protocol: int, *, closed_each_time: bool) -> None:
    """Publish FORGED times to another device's topic as wm-hostile."""
    forger = None
    for i in range(FORGED):
        if forger is None:
            forger = Client(port, "wm-hostile", secret, client_id="wm-hostile", protocol=protocol)
            assert forger.accepted
        forger.client.publish(OTHERS, b"forged %d" % i, qos=0).wait_for_publish(2)
        if closed_each_time:  # Mosquitto 2.0 closes a client's connection at a refused PUBLISH
            forger.close()  # (after its PUBLISH: before paho's reconnect delay)
            forger = None
    if forger is not None:
        time.sleep(0.2)  # its last PUBLISH is read before its DISCONNECT
        forger.close()


def counted(found: list[tuple[str | None, str, dict]]) -> dict[str, int]:
    """Refusals per access, as the notices count them."""
    out: dict[str, int] = {}
    for _, _, n in found:
        out[n["access"]] = out.get(n["access"], 0) + n["count"]
    return out


def test_a_devices_share_subscription_and_publish_to_another_device_are_reported_as_denials(
        platform) -> None:
    ends, port, settings = platform
    healthy = new_device(ends, "wm-healthy")
    hostile = new_device(ends, "wm-hostile")
    protocol = mqtt.MQTTv311 if ends.embedded_broker else mqtt.MQTTv5
    config = ingest_config(settings, ends.database_url, ends.mqtt_url)
    metrics = IngestMetrics()
    with running_worker(config, metrics=metrics) as worker:
        pub = Publisher(f"mqtt://127.0.0.1:{port}", "wm-healthy", username="wm-healthy",
                        password=healthy, protocol=protocol)
        traffic = threading.Thread(target=pub.publish_all,
                                   args=(telemetry_messages(PREFIX, ["wm-healthy"], 500, 2),))
        traffic.start()  # while the hostile device tries its luck
        thief = Client(port, "wm-hostile", hostile, client_id="wm-hostile", protocol=protocol)
        assert thief.accepted
        started = time.monotonic()
        assert thief.subscribe(SHARE)[0] >= 128  # refused
        thief.close()
        forge(port, hostile, protocol, closed_each_time=not ends.embedded_broker)
        forged_in = time.monotonic() - started
        wait_for(lambda: counted(denials(ends)) == {"subscribe": 1, "publish": FORGED},
                 timeout=10, what="every refusal in dead letters", show=lambda: denials(ends))
        took = time.monotonic() - started
        traffic.join(60)
        wait_for(lambda: stored(ends.database_url)[0] == 1000,
                 what="every healthy row", show=lambda: stored(ends.database_url))
        assert worker.connected
        pub.close()

    assert took - forged_in < 3.0, f"refusals became visible only after {took:.1f} s"
    found = denials(ends)
    assert {d for d, _, _ in found} == {"wm-hostile"}
    assert {(n["access"], n["topic"]) for _, _, n in found} == {("subscribe", SHARE),
                                                                 ("publish", OTHERS)}
    assert all(n["client"] == "wm-hostile" and n["username"] == "wm-hostile"
               for _, _, n in found)
    value = metrics.registry.get_sample_value
    assert value("fixahead_ingest_acl_denials_total", {"access": "subscribe"}) == 1
    assert value("fixahead_ingest_acl_denials_total", {"access": "publish"}) == FORGED
    assert value("fixahead_ingest_dead_letters_total", {"reason": "acl_denied"}) == len(found)
    if forged_in < 0.9:  # all within the first second: one notice for all but the first
        assert len(found) == 2, found
    assert stored(ends.database_url) == (1000, 0)
