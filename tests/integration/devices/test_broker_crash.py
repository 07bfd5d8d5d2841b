"""kill -9 of Mosquitto loses at most what was acknowledged within the autosave window
(`autosave_interval`, docs/ingest.md): everything older survives in the ingest session."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devices.provisioning import register
from fixahead.broker_auth import INGEST, write_broker_files
from fixahead.mosquitto import AUTOSAVE_S, running
from tests.support.mqtt import Publisher
from tests.support.services import free_port, mosquitto_binary

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(mosquitto_binary() is None,
                       reason="needs Mosquitto: apt-get install mosquitto"),
]
PREFIX = "fixahead/v1"


class Session:
    """The ingest account's persistent MQTT 5 session; counts what it is delivered."""

    def __init__(self, port: int, password: str) -> None:
        self.got: set[bytes] = set()
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="crash-ingest",
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(INGEST, password)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{PREFIX}/+/telemetry", 1)
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = lambda c, u, m: self.got.add(m.payload)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, clean_start=False, properties=props)
        self.client.loop_start()
        assert self.ready.wait(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_kill_9_of_the_broker_loses_nothing_acknowledged_before_the_autosave_window(
        database_url: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="fxcrash-"))
    tmp.chmod(0o711)
    port = free_port()
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            secret = register(conn, model_id="WM-800", device_id="wm-crash", actor="t")[1]
            conf = write_broker_files(conn, tmp, port)
        password = json.loads((tmp / "service-accounts.json").read_text())[INGEST]
        with running(conf, port) as proc:
            Session(port, password).close()  # the session exists; the worker is "down"
            device = Publisher(f"mqtt://127.0.0.1:{port}", "wm-crash", username="wm-crash",
                               password=secret)
            device.publish_all((f"{PREFIX}/wm-crash/telemetry", b"old-%d" % i)
                               for i in range(3000))
            time.sleep(AUTOSAVE_S + 1.5)  # older than the window when the broker dies
            device.publish_all((f"{PREFIX}/wm-crash/telemetry", b"new-%d" % i)
                               for i in range(3000))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
            device.close()
        with running(conf, port):
            session = Session(port, password)
            deadline = time.monotonic() + 10
            while len(session.got) < 3000 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
            session.close()
        old = {p for p in session.got if p.startswith(b"old-")}
        new = {p for p in session.got if p.startswith(b"new-")}
        print(f"kept {len(old)}/3000 acknowledged > window before the kill, "
              f"{len(new)}/3000 acknowledged just before it")
        assert len(old) == 3000
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
