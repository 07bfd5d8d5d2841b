"""Real Mosquitto started with password and ACL files generated from the registry (the older
way, still what the embedded broker reads) enforces device access; `write_broker_files` now
writes the dynamic security plugin's file instead (tests in test_dynsec_broker.py)."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devices.provisioning import register, revoke, rotate
from fixahead.broker_auth import (
    ACL_FILE,
    INGEST,
    PASSWORD_FILE,
    PLATFORM,
    refresh_auth_files,
    write_auth_files,
    write_broker_files,
)
from tests.support.device_client import Client
from tests.support.services import Mosquitto, mosquitto_binary

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(mosquitto_binary() is None,
                       reason="needs Mosquitto: apt-get install mosquitto"),
]


@pytest.fixture
def broker_dir(database_url: str) -> Iterator[tuple[Path, Mosquitto]]:
    """Broker files from a registry with no devices yet, and Mosquitto started on them."""
    # Mosquitto started as root reads its files as the `mosquitto` user: the directory must be
    # traversable (pytest's tmp_path is not).
    tmp_path = Path(tempfile.mkdtemp(prefix="fxbroker-"))
    tmp_path.chmod(0o711)
    with psycopg.connect(database_url, autocommit=True) as conn:
        write_auth_files(conn, tmp_path)
    broker = Mosquitto(tmp_path, password_file=tmp_path / PASSWORD_FILE,
                       acl_file=tmp_path / ACL_FILE)
    broker.start()
    try:
        yield tmp_path, broker
    finally:
        broker.stop()
        shutil.rmtree(tmp_path, ignore_errors=True)


def regenerate(database_url: str, out: Path, broker: Mosquitto) -> None:
    """Write the files from the registry again and reload the broker."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        write_auth_files(conn, out)
    broker.reload()


def service_password(out: Path, account: str = INGEST) -> str:
    return json.loads((out / "service-accounts.json").read_text())[account]


def test_a_device_with_a_wrong_secret_is_refused(database_url: str, broker_dir) -> None:
    out, broker = broker_dir
    with psycopg.connect(database_url, autocommit=True) as conn:
        register(conn, model_id="WM-800", device_id="dev-a", actor="test")
    regenerate(database_url, out, broker)
    wrong = Client(broker.port, "dev-a", "not-the-secret")
    unknown = Client(broker.port, "dev-nobody", "x")
    try:
        assert not wrong.accepted and wrong.reason is not None
        assert wrong.reason.getName() in ("Bad user name or password", "Not authorized")
        assert not unknown.accepted
    finally:
        wrong.close()
        unknown.close()


def wait_messages(client: Client, seconds: float = 3.0) -> list[tuple[str, bytes]]:
    """The client's messages once the first has arrived and the rest had time to follow."""
    deadline = time.monotonic() + seconds
    while not client.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    return client.messages


def test_a_device_can_publish_only_to_its_own_topics(database_url: str, broker_dir) -> None:
    out, broker = broker_dir
    with psycopg.connect(database_url, autocommit=True) as conn:
        _, secret_a = register(conn, model_id="WM-800", device_id="dev-a", actor="test")
        register(conn, model_id="WM-800", device_id="dev-b", actor="test")
    regenerate(database_url, out, broker)
    ingest = Client(broker.port, INGEST, service_password(out))
    try:
        assert ingest.accepted
        assert ingest.subscribe("fixahead/v1/+/telemetry") == [1]
        assert ingest.subscribe("fixahead/v1/+/events") == [1]
        for topic in ("fixahead/v1/dev-b/telemetry", "fixahead/v1/dev-b/events",
                      "fixahead/v1/dev-a/commands"):
            forger = Client(broker.port, "dev-a", secret_a)
            assert forger.accepted
            # Mosquitto 2.0 answers a forbidden MQTT 5 publish by closing the connection
            with contextlib.suppress(RuntimeError):
                forger.publish(topic, b"forged")
            forger.close()
        honest = Client(broker.port, "dev-a", secret_a)
        honest.publish("fixahead/v1/dev-a/telemetry", b"mine")
        assert wait_messages(ingest) == [("fixahead/v1/dev-a/telemetry", b"mine")]
        honest.close()
    finally:
        ingest.close()


def test_a_device_reads_only_its_own_commands(database_url: str, broker_dir) -> None:
    out, broker = broker_dir
    with psycopg.connect(database_url, autocommit=True) as conn:
        _, secret_a = register(conn, model_id="WM-800", device_id="dev-a", actor="test")
        register(conn, model_id="WM-800", device_id="dev-b", actor="test")
    regenerate(database_url, out, broker)
    device = Client(broker.port, "dev-a", secret_a)
    platform = Client(broker.port, PLATFORM, service_password(out, PLATFORM))
    try:
        assert device.accepted and platform.accepted
        # Mosquitto 2 grants any subscription and filters each delivery by the read ACL
        device.subscribe("fixahead/v1/+/commands")
        platform.publish("fixahead/v1/dev-b/commands", b"for b")
        platform.publish("fixahead/v1/dev-a/commands", b"for a")
        assert wait_messages(device) == [("fixahead/v1/dev-a/commands", b"for a")]
    finally:
        device.close()
        platform.close()


def test_a_revoked_device_is_cut_off_after_reload(database_url: str, broker_dir) -> None:
    out, broker = broker_dir
    with psycopg.connect(database_url, autocommit=True) as conn:
        _, secret = register(conn, model_id="FR-300", device_id="dev-r", actor="test")
        regenerate(database_url, out, broker)
        device = Client(broker.port, "dev-r", secret)
        try:
            assert device.accepted
            revoke(conn, "dev-r", actor="test")
            regenerate(database_url, out, broker)
            assert device.disconnected.wait(5), "revoked device still connected"
        finally:
            device.close()
        again = Client(broker.port, "dev-r", secret)
        assert not again.accepted
        again.close()


def test_after_rotation_only_the_new_secret_works(database_url: str, broker_dir) -> None:
    out, broker = broker_dir
    with psycopg.connect(database_url, autocommit=True) as conn:
        _, old = register(conn, model_id="FR-300", device_id="dev-x", actor="test")
        new = rotate(conn, "dev-x", actor="test")
    regenerate(database_url, out, broker)
    stale, fresh = Client(broker.port, "dev-x", old), Client(broker.port, "dev-x", new)
    try:
        assert not stale.accepted and fresh.accepted
    finally:
        stale.close()
        fresh.close()


def test_service_passwords_survive_regeneration_and_stay_private(database_url: str,
                                                                 tmp_path: Path) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conf = write_broker_files(conn, tmp_path, 18999)
        first = service_password(tmp_path)
        write_broker_files(conn, tmp_path, 18999)
    assert service_password(tmp_path) == first
    assert (tmp_path / "service-accounts.json").stat().st_mode & 0o777 == 0o600
    dynsec = tmp_path / "data" / "dynamic-security.json"
    assert dynsec.stat().st_mode & 0o777 == 0o600
    text = conf.read_text()
    assert "allow_anonymous false" in text and "18999" in text
    assert "mosquitto_dynamic_security.so" in text and "password_file" not in text
    assert first not in dynsec.read_text()


def test_refresh_rewrites_and_reloads_only_when_the_registry_changed(database_url: str,
                                                                     broker_dir) -> None:
    out, broker = broker_dir
    assert broker.proc is not None
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert refresh_auth_files(conn, out, reload_pid=broker.proc.pid)  # no stamp yet
        assert not refresh_auth_files(conn, out, reload_pid=broker.proc.pid)
        _, secret = register(conn, model_id="WM-800", device_id="dev-new", actor="test")
        assert refresh_auth_files(conn, out, reload_pid=broker.proc.pid)
        time.sleep(0.3)
        device = Client(broker.port, "dev-new", secret)
        assert device.accepted
        revoke(conn, "dev-new", actor="test")
        assert refresh_auth_files(conn, out, reload_pid=broker.proc.pid)
        assert device.disconnected.wait(5)
        device.close()
