"""The embedded broker (amqtt, with the registry's plugins) loses nothing it acknowledged: every
QoS 1 message a device had PUBACKed is stored by ingest, when the device disconnects right after
its last PUBACK (clean or persistent session), when the ingest worker restarts while the
broker holds a backlog for it, and when a worker drops with every delivery unacknowledged."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.brokerurl import parse_broker_url
from devices.provisioning import register
from fixahead.amqttbroker import ReliableHandler
from fixahead.services import Endpoints, broker
from fixahead.settings import Settings, load_settings
from fixahead.wiring import ingest_config
from ingest.config import IngestConfig
from tests.support.mqtt import Publisher, running_worker, wait_for
from tests.support.services import free_port
from tests.support.traffic import stored, telemetry_messages

pytestmark = [
    pytest.mark.integration,
    # amqtt 0.12 leaves the socket of a connection it refused unclosed (its bug, not ours)
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]
PREFIX = "fixahead/v1"
DEVICE = "wm-burst"
N = 1000


@pytest.fixture
def platform(database_url: str) -> Iterator[tuple[Endpoints, Settings, str]]:
    """The embedded amqtt broker on the registry, as `fixahead up` runs it; one device's
    secret."""
    tmp = Path(tempfile.mkdtemp(prefix="fxemb-"))
    settings = load_settings({}, data_dir=str(tmp), embedded_mqtt_port=free_port(),
                             embedded_broker="amqtt", ingest_client_id="fixahead-ingest-1")
    try:
        with broker(settings, database_url) as ends:
            time.sleep(0.5)  # the sync's LISTEN is in place
            with psycopg.connect(database_url, autocommit=True) as conn:
                secret = register(conn, model_id="WM-800", device_id=DEVICE, actor="test")[1]
            ends.refresh_broker_accounts(PREFIX, {DEVICE: secret})
            yield ends, settings, secret
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def device(settings: Settings, secret: str, *, clean: bool) -> Publisher:
    """The device, connected over MQTT 3.1.1 with a clean or a persistent session."""
    return Publisher(f"mqtt://127.0.0.1:{settings.embedded_mqtt_port}", DEVICE, username=DEVICE,
                     password=secret, protocol=mqtt.MQTTv311, clean_session=clean)


def rows(ends: Endpoints) -> int:
    """Telemetry rows stored."""
    return stored(ends.database_url)[0]


def worker_session(ends: Endpoints, settings: Settings) -> IngestConfig:
    """Start and stop an ingest worker once, so its persistent session and subscription exist
    on the broker; its config."""
    config = ingest_config(settings, ends.database_url, ends.mqtt_url)
    with running_worker(config):
        pass
    return config


def worker_client(ends: Endpoints, config: IngestConfig, **kwargs: object) -> mqtt.Client:
    """A bare paho client connected (loop running) as the ingest worker: its client id and
    account, a persistent session."""
    addr = parse_broker_url(ends.mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=config.client_id,
                         protocol=mqtt.MQTTv311, clean_session=False, **kwargs)
    client.username_pw_set(addr.username, addr.password)
    client.connect(addr.host, addr.port)
    client.loop_start()
    return client


def all_stored_by_a_worker(ends: Endpoints, config: IngestConfig) -> None:
    """A worker started now stores all N rows, each once."""
    with running_worker(config):
        wait_for(lambda: rows(ends) == N, timeout=60, what=f"all {N} rows",
                 show=lambda: rows(ends))
        time.sleep(1.0)  # nothing extra turns up
    assert stored(ends.database_url) == (N, 0)


@pytest.mark.parametrize("clean", [True, False], ids=["clean-session", "persistent-session"])
def test_every_message_a_device_had_acknowledged_is_stored_when_it_leaves_at_once(
        platform: tuple[Endpoints, Settings, str], clean: bool) -> None:
    ends, settings, secret = platform
    config = ingest_config(settings, ends.database_url, ends.mqtt_url)
    with running_worker(config) as worker:
        pub = device(settings, secret, clean=clean)
        assert pub.publish_all(telemetry_messages(PREFIX, [DEVICE], N, 1)) == N
        pub.close()  # right after the last PUBACK: the broker has accepted all N
        wait_for(lambda: rows(ends) == N, timeout=60, what=f"all {N} rows",
                 show=lambda: rows(ends))
        time.sleep(1.0)  # nothing extra turns up
        assert worker.connected
    assert stored(ends.database_url) == (N, 0)


def test_a_backlog_held_for_a_restarting_ingest_worker_is_stored_once(
        platform: tuple[Endpoints, Settings, str]) -> None:
    ends, settings, secret = platform
    config = worker_session(ends, settings)
    pub = device(settings, secret, clean=True)
    half = telemetry_messages(PREFIX, [DEVICE], N, 1)
    assert pub.publish_all(half[: N // 2]) == N // 2  # queued for the offline worker
    with running_worker(config):
        # the worker stops while the broker is still sending it the backlog and the rest
        assert pub.publish_all(half[N // 2:]) == N - N // 2
        pub.close()
    all_stored_by_a_worker(ends, config)


def test_deliveries_a_worker_never_acknowledged_are_sent_again_after_it_dropped(
        platform: tuple[Endpoints, Settings, str]) -> None:
    """A worker that received everything and died before its commit (so acked nothing), after
    longer than amqtt's 5 s PUBACK wait: its next start gets every message again."""
    ends, settings, secret = platform
    config = worker_session(ends, settings)
    got: list[int] = []
    doomed = worker_client(ends, config, manual_ack=True)
    doomed.on_message = lambda c, u, m: got.append(m.mid)  # never acked
    try:
        pub = device(settings, secret, clean=True)
        assert pub.publish_all(telemetry_messages(PREFIX, [DEVICE], N, 1)) == N
        wait_for(lambda: len(got) == N, what=f"all {N} delivered to the doomed worker",
                 show=lambda: len(got))
        pub.close()  # after: this test is about the worker's side only
        time.sleep(6.0)  # past amqtt's own 5 s wait for a PUBACK
    finally:
        doomed.disconnect()
        doomed.loop_stop()
    assert rows(ends) == 0
    all_stored_by_a_worker(ends, config)


def test_deliveries_past_the_in_flight_window_wait_and_survive_the_worker_dropping(
        platform: tuple[Endpoints, Settings, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """At most `max_inflight` deliveries are unacknowledged (amqtt has 65,535 packet ids and
    dropped what came past them); what waits when the worker drops goes to its next start."""
    monkeypatch.setattr(ReliableHandler, "max_inflight", 100)  # 60,000 in use: too slow here
    ends, settings, secret = platform
    config = worker_session(ends, settings)
    got: list[int] = []
    doomed = worker_client(ends, config, manual_ack=True)
    doomed.on_message = lambda c, u, m: got.append(m.mid)  # never acked
    try:
        pub = device(settings, secret, clean=True)
        assert pub.publish_all(telemetry_messages(PREFIX, [DEVICE], N, 1)) == N
        pub.close()
        wait_for(lambda: len(got) == 100, what="a full window delivered", show=lambda: len(got))
        time.sleep(1.0)
        assert len(got) == 100  # the rest wait for a PUBACK
    finally:
        doomed.disconnect()
        doomed.loop_stop()
    all_stored_by_a_worker(ends, config)


def test_a_worker_that_takes_over_a_live_session_receives_everything(
        platform: tuple[Endpoints, Settings, str]) -> None:
    """A worker whose predecessor's connection is still open takes its session over; amqtt
    then marked the session disconnected and queued the new worker's deliveries offline."""
    ends, settings, secret = platform
    config = worker_session(ends, settings)
    old = worker_client(ends, config)
    time.sleep(0.5)  # connected, and stays so until the new worker takes over
    try:
        with running_worker(config) as worker:
            old.loop_stop()  # gone for good: paho would reconnect and take it back
            pub = device(settings, secret, clean=False)
            assert pub.publish_all(telemetry_messages(PREFIX, [DEVICE], N, 1)) == N
            wait_for(lambda: rows(ends) == N, timeout=60, what=f"all {N} rows",
                     show=lambda: rows(ends))
            pub.close()
            assert worker.connected
    finally:
        old.loop_stop()
    assert stored(ends.database_url) == (N, 0)
