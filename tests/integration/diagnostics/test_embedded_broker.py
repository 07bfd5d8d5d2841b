"""The same exchange on the embedded amqtt broker (the default of `fixahead run` and the
demo), with the registry's accounts and topic rules."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from devices import diagnostics_store as store
from devices.diagnostics import State
from devices.diagnostics_mqtt import DiagnosticsLink
from devices.provisioning import register
from fixahead.broker_auth import PLATFORM, prepare_embedded, service_passwords
from fixahead.embedded_mqtt import EmbeddedBroker
from simulator.commands import CommandResponder
from tests.support.diagnostics import clogging_washer, run_link
from tests.support.services import free_port

pytestmark = pytest.mark.integration


def test_a_snapshot_is_answered_through_the_embedded_broker(database_url: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="fxdiag-emb-"))
    with psycopg.connect(database_url, autocommit=True) as conn:
        _, secret = register(conn, model_id="WM-800", device_id="wm-emb-1", actor="test")
        auth, _, _ = prepare_embedded(conn, tmp)
    broker = EmbeddedBroker(free_port(), auth=auth)
    url = broker.start()
    port = int(url.rsplit(":", 1)[1])
    link = DiagnosticsLink.from_url(
        lambda: psycopg.connect(database_url, autocommit=True),
        f"mqtt://{PLATFORM}:{service_passwords(tmp)[PLATFORM]}@127.0.0.1:{port}", poll_s=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=run_link, args=(link, stop), daemon=True)
    thread.start()
    device = CommandResponder("127.0.0.1", port, [clogging_washer("wm-emb-1")],
                              {"wm-emb-1": secret}, publish_status=True)
    try:
        deadline = time.monotonic() + 10
        while not link.ready.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        device.start()
        with psycopg.connect(database_url, autocommit=True) as conn:
            req = store.create_request(conn, device_id="wm-emb-1", kind="diagnostics_snapshot",
                                       now=datetime.now(UTC), ttl=timedelta(minutes=5),
                                       actor="test")
            deadline = time.monotonic() + 15
            done = store.load_request(conn, req.request_id)
            while done is not None and done.open and time.monotonic() < deadline:
                time.sleep(0.1)
                done = store.load_request(conn, req.request_id)
        assert done is not None and done.state is State.ANSWERED, done
        assert done.result is not None and done.result["readings"]["drain_time"] > 200
    finally:
        device.stop()
        stop.set()
        thread.join(10)
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
