"""Ingest with its own account on a Mosquitto secured by the registry's files, end to end."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from devices import protocol
from devices.protocol import Telemetry
from devices.provisioning import register
from fixahead.broker_auth import write_auth_files
from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from tests.support.mqtt import Publisher, running_worker, wait_for
from tests.support.services import Mosquitto, mosquitto_binary

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(mosquitto_binary() is None,
                       reason="needs Mosquitto: apt-get install mosquitto"),
]


def rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT d.device_id, t.value FROM telemetry t JOIN devices d "
                            "ON d.id = t.device ORDER BY t.time").fetchall()


def test_ingest_account_stores_a_devices_own_telemetry_and_nothing_forged(
        database_url: str) -> None:
    out = Path(tempfile.mkdtemp(prefix="fxsecure-"))
    out.chmod(0o711)  # Mosquitto reads its files as the `mosquitto` user
    with psycopg.connect(database_url, autocommit=True) as conn:
        _, secret_a = register(conn, model_id="WM-800", device_id="sec-a", actor="test")
        register(conn, model_id="WM-800", device_id="sec-b", actor="test")
        files = write_auth_files(conn, out)
    broker = Mosquitto(out, password_file=files.password_file, acl_file=files.acl_file).start()
    try:
        settings = load_settings({}, ingest_username="fixahead.ingest",
                                 ingest_password=files.services["fixahead.ingest"],
                                 ingest_client_id="secured-ingest")
        now = int(time.time() * 1000)
        own = protocol.encode_telemetry_json(Telemetry(1, [now], ["drain_time"], [77.0]))
        forged = protocol.encode_telemetry_json(Telemetry(1, [now + 1], ["drain_time"], [999.0]))
        with running_worker(ingest_config(settings, database_url, broker.url)):
            liar = Publisher(broker.url, "liar", username="sec-a", password=secret_a)
            with contextlib.suppress(Exception):
                liar.publish_all([("fixahead/v1/sec-b/telemetry", forged)], timeout=3)
            with contextlib.suppress(Exception):
                liar.close()
            honest = Publisher(broker.url, "honest", username="sec-a", password=secret_a)
            honest.publish_all([("fixahead/v1/sec-a/telemetry", own)])
            honest.close()
            wait_for(lambda: rows(database_url), what="the device's reading")
            time.sleep(0.5)
        assert rows(database_url) == [("sec-a", 77.0)]
    finally:
        broker.stop()
        shutil.rmtree(out, ignore_errors=True)
