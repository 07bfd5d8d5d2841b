"""Mosquitto with the dynamic security plugin, as `fixahead up` runs it: each device only its
own client id and topics, no `$share`, and register, rotate and revoke live within 2 s, while
another device's traffic is fully stored."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devices.provisioning import revoke, rotate
from fixahead.services import Endpoints, local_mosquitto
from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from tests.support.device_client import Client
from tests.support.mqtt import Publisher, running_worker, wait_for
from tests.support.services import free_port, mosquitto_binary
from tests.support.traffic import new_device, stored, telemetry_messages

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(mosquitto_binary() is None,
                       reason="needs Mosquitto: apt-get install mosquitto"),
]
PREFIX = "fixahead/v1"


@pytest.fixture
def platform(database_url: str) -> Iterator[tuple[Endpoints, int, object]]:
    """A local Mosquitto on the registry (broker sync running), and its port and settings."""
    tmp = Path(tempfile.mkdtemp(prefix="fxdynsec-"))
    tmp.chmod(0o711)  # Mosquitto started as root runs as `mosquitto`
    port = free_port()
    settings = load_settings({}, data_dir=str(tmp), embedded_mqtt_port=port,
                             embedded_broker="mosquitto", ingest_client_id="fixahead-ingest-1")
    try:
        with local_mosquitto(settings, database_url) as ends:
            time.sleep(0.5)  # the sync's LISTEN is in place
            yield ends, port, settings
    finally:
        shutil.rmtree(tmp, ignore_errors=True)



def connects_within(port: int, user: str, secret: str, seconds: float) -> float | None:
    """Seconds until the broker accepts `user`, or None."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        c = Client(port, user, secret, client_id=user)
        ok = c.accepted
        c.close()
        if ok:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_hostile_device_cannot_share_subscribe_or_take_client_ids_and_traffic_is_all_stored(
        platform) -> None:
    ends, port, settings = platform
    healthy = new_device(ends, "wm-healthy")
    hostile = new_device(ends, "wm-hostile")
    config = ingest_config(settings, ends.database_url, ends.mqtt_url)
    with running_worker(config) as worker:
        thief = Client(port, "wm-hostile", hostile, client_id="wm-hostile")
        assert thief.accepted
        share = thief.subscribe(f"$share/ingest/{PREFIX}/+/telemetry")
        other = thief.subscribe(f"{PREFIX}/wm-healthy/commands")
        own = thief.subscribe(f"{PREFIX}/wm-hostile/commands")
        assert share == [135] and other == [135] and own == [1]  # 135: not authorized
        takeovers = [Client(port, "wm-hostile", hostile, client_id=cid)
                     for cid in ("fixahead-ingest-1", "wm-healthy", "")]
        assert [t.accepted for t in takeovers] == [False, False, False]
        pub = Publisher(f"mqtt://127.0.0.1:{port}", "wm-healthy", username="wm-healthy",
                        password=healthy)
        pub.publish_all(telemetry_messages(PREFIX, ["wm-healthy"], 500, 2))
        pub.close()
        wait_for(lambda: stored(ends.database_url)[0] == 1000, what="1,000 healthy rows")
        assert worker.connected
        for c in [thief, *takeovers]:
            c.close()
    assert stored(ends.database_url) == (1000, 0)


def test_register_rotate_and_revoke_take_effect_within_two_seconds(platform) -> None:
    ends, port, _ = platform
    started = time.monotonic()
    secret = new_device(ends, "wm-live")
    took = connects_within(port, "wm-live", secret, 2.0)
    assert took is not None, "a device registered while the broker runs could not connect"
    assert time.monotonic() - started < 2.0

    online = Client(port, "wm-live", secret, client_id="wm-live")
    with psycopg.connect(ends.database_url, autocommit=True) as conn:
        new_secret = rotate(conn, "wm-live", actor="test")
    ends.refresh_broker_accounts(PREFIX, {"wm-live": new_secret})
    assert online.disconnected.wait(2.0), "the old secret's session was not cut off"
    assert connects_within(port, "wm-live", new_secret, 2.0) is not None
    assert connects_within(port, "wm-live", secret, 0.3) is None
    online.close()

    online = Client(port, "wm-live", new_secret, client_id="wm-live")
    assert online.accepted
    revoked_at = time.monotonic()
    with psycopg.connect(ends.database_url, autocommit=True) as conn:
        revoke(conn, "wm-live", actor="test")  # no announcement: the sync alone cuts it off
    assert online.disconnected.wait(2.0), "a revoked device stayed connected"
    assert time.monotonic() - revoked_at < 2.0
    assert connects_within(port, "wm-live", new_secret, 0.5) is None
    online.close()


def test_a_rotation_the_broker_never_heard_of_fails_closed_within_two_seconds(platform) -> None:
    ends, port, _ = platform
    secret = new_device(ends, "wm-quiet")
    online = Client(port, "wm-quiet", secret, client_id="wm-quiet")
    assert online.accepted
    with psycopg.connect(ends.database_url, autocommit=True) as conn:
        rotate(conn, "wm-quiet", actor="test")  # the new secret is lost before the broker
    assert online.disconnected.wait(2.5)
    assert connects_within(port, "wm-quiet", secret, 0.3) is None
    with contextlib.suppress(Exception):
        online.close()
