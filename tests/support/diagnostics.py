"""Shared setup of the MQTT diagnostics tests: two registered devices, Mosquitto started on
the files generated from the registry, and the platform's link running as `fixahead.platform`."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from devices import diagnostics_store as store
from devices.catalog import load_catalog
from devices.diagnostics import State
from devices.diagnostics_mqtt import DiagnosticsLink, serve
from devices.provisioning import register
from fixahead.broker_auth import ACL_FILE, PASSWORD_FILE, PLATFORM, write_auth_files
from simulator.commands import DeviceState
from simulator.faults import Fault
from simulator.timebase import DAY_MS
from tests.support.services import Mosquitto

PREFIX = "fixahead/v1"


@dataclass
class Setup:
    database_url: str
    broker: Mosquitto
    secrets: dict[str, str]
    link: DiagnosticsLink

    def conn(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url, autocommit=True)


def run_link(link: DiagnosticsLink, stop: threading.Event) -> None:
    """Serve the platform's diagnostics link until `stop` is set (a thread's target)."""
    serve(link, stop)


@contextlib.contextmanager
def running_setup(database_url: str) -> Iterator[Setup]:
    """Two devices, Mosquitto on the generated files, the platform's link running."""
    tmp = Path(tempfile.mkdtemp(prefix="fxdiag-"))
    tmp.chmod(0o711)  # Mosquitto as root reads its files as `mosquitto`
    with psycopg.connect(database_url, autocommit=True) as conn:
        secrets = {d: register(conn, model_id="WM-800", device_id=d, actor="test")[1]
                   for d in ("wm-diag-a", "wm-diag-b")}
        write_auth_files(conn, tmp)
    broker = Mosquitto(tmp, password_file=tmp / PASSWORD_FILE, acl_file=tmp / ACL_FILE).start()
    password = json.loads((tmp / "service-accounts.json").read_text())[PLATFORM]
    link = DiagnosticsLink(lambda: psycopg.connect(database_url, autocommit=True),
                           hostname="127.0.0.1", port=broker.port, username=PLATFORM,
                           password=password, prefix=PREFIX, poll_s=0.2,
                           listen_url=database_url)
    stop = threading.Event()
    thread = threading.Thread(target=run_link, args=(link, stop), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not link.ready.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert link.ready.is_set(), "the platform's link did not subscribe"
        yield Setup(database_url, broker, secrets, link)
    finally:
        stop.set()
        thread.join(10)
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def wait_state(s: Setup, request_id: str, state: State, seconds: float = 10) -> store.Request:
    deadline = time.monotonic() + seconds
    while True:
        with s.conn() as conn:
            req = store.load_request(conn, request_id)
        assert req is not None
        if req.state is state or time.monotonic() > deadline:
            return req
        time.sleep(0.1)


def clogging_washer(device_id: str) -> DeviceState:
    now = int(time.time() * 1000)
    onset = now - 8 * DAY_MS
    clog = Fault("f1", device_id, "WM-800", "gradual", "drain_pump_clog", "E21", onset,
                 onset + 3 * DAY_MS, None, True, "drain_time", None, now + 2 * DAY_MS, 1.5)
    return DeviceState(device_id, load_catalog()["WM-800"], (clog,), None, started_ms=onset)


def request(s: Setup, device_id: str, *, ttl: timedelta = timedelta(minutes=5),
            kind: str = "diagnostics_snapshot") -> store.Request:
    with s.conn() as conn:
        return store.create_request(conn, device_id=device_id, kind=kind,
                                    now=datetime.now(UTC), ttl=ttl, actor="test",
                                    incident_id="inc-1")
