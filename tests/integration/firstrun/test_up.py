"""`fixahead up`, the README's first command, as a user runs it: the platform with a demo
fleet on its own broker, the web answering while it runs, a summary at the end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fixahead.mosquitto import running, write_config
from tests.support.services import free_port, private_data

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_data_folder_the_broker_cannot_reach_is_named_before_it_starts() -> None:
    if os.geteuid() != 0:
        pytest.skip("only root hands the broker to another user")
    base = private_data()
    private = base / "private"
    private.mkdir(mode=0o700)
    try:
        port = free_port()
        conf = write_config(private / "mq", port=port, dynsec_file=private / "d.json")
        with pytest.raises(RuntimeError,  # before it starts
                           match=f"cannot reach {private}/mq: {private} is mode 700"), \
                running(conf, port):
            pass
    finally:
        shutil.rmtree(base)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return int(r.status)
    except OSError:
        return 0


@pytest.mark.timeout(300)
def test_up_runs_the_platform_with_a_demo_fleet_and_serves_the_web(
        database_url: str, tmp_path: Path) -> None:
    web = free_port()
    # as root, Mosquitto runs as `mosquitto` and cannot pass through pytest's private tmp
    data = private_data() if os.geteuid() == 0 else tmp_path / "data"
    env = {**os.environ, "FIXAHEAD_DATABASE_URL": database_url,
           "FIXAHEAD_DATA_DIR": str(data),
           "FIXAHEAD_EMBEDDED_MQTT_PORT": str(free_port()),
           "FIXAHEAD_EMBEDDED_SMTP_PORT": str(free_port()),
           "FIXAHEAD_WEB_PORT": str(web)}
    env.pop("FIXAHEAD_MQTT_URL", None)
    out = tmp_path / "up.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fixahead.cli", "up", "--households", "3", "--days", "2",
         "--for", "45", "--json", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = login = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not (health and login):
            health = health or (_get(f"http://127.0.0.1:{web}/healthz") == 200)
            login = login or (_get(f"http://127.0.0.1:{web}/login") == 200)
            time.sleep(0.5)
        text, _ = proc.communicate(timeout=240)
    finally:
        proc.kill()
        if data != tmp_path / "data":
            shutil.rmtree(data, ignore_errors=True)
    assert proc.returncode == 0, text
    assert health and login, text
    assert "web       http://" in text and "(sign in as " in text, text
    figures = json.loads(out.read_text())
    assert figures["messages_stored"] > 0, text
