"""Health, readiness and metrics of the web role: on the app itself and, with
FIXAHEAD_METRICS_PORT, on the web role's own port (base + 4), from a real `fixahead run web`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fixahead.commands.web import build_web_app
from fixahead.health import ROLE_OFFSETS, role_port
from fixahead.settings import load_settings
from tests.support.services import free_port
from tests.support.web import TestClient

pytestmark = pytest.mark.integration


def test_the_web_app_answers_healthz_readyz_and_metrics(database_url: str,
                                                        tmp_path: Path) -> None:
    settings = load_settings({}, database_url=database_url, data_dir=tmp_path)
    app = build_web_app(settings, database_url, link_secret=b"link-secret-for-health")
    with TestClient(app) as client:
        assert client.get("/healthz").text == "ok\n"
        assert client.get("/readyz").status_code == 200
        client.get("/login")
        metrics = client.get("/metrics").text
    assert f"fixahead_web_db_slots {float(settings.db_pool_max)}" in metrics
    assert "fixahead_web_saturated_total 0.0" in metrics and "process_cpu_seconds" in metrics


def test_the_web_role_has_a_metrics_port_of_its_own() -> None:
    ports = [role_port(9100, role) for role in ROLE_OFFSETS]
    assert role_port(9100, "web") == 9104 and len(set(ports)) == len(ports)


def test_fixahead_run_web_serves_health_on_its_role_port_and_on_the_app(
        database_url: str, tmp_path: Path) -> None:
    web, base = free_port(), free_port()
    while any(p == web for p in range(base, base + 5)):
        base = free_port()
    env = {**os.environ, "FIXAHEAD_DATABASE_URL": database_url, "FIXAHEAD_WEB_PORT": str(web),
           "FIXAHEAD_METRICS_PORT": str(base), "FIXAHEAD_DATA_DIR": str(tmp_path),
           "FIXAHEAD_MQTT_URL": "mqtt://127.0.0.1:1"}
    log = tmp_path / "web.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "fixahead.cli", "run", "web"], env=env,
                                stdout=out, stderr=out)
    try:
        deadline, answers = time.monotonic() + 60, {}
        while time.monotonic() < deadline and len(answers) < 3:
            for name, url in (("role", f"http://127.0.0.1:{base + 4}/readyz"),
                              ("app", f"http://127.0.0.1:{web}/readyz"),
                              ("metrics", f"http://127.0.0.1:{base + 4}/metrics")):
                try:
                    answers[name] = httpx.get(url, timeout=2)
                except httpx.TransportError:
                    time.sleep(0.3)
        assert len(answers) == 3, log.read_text()[-2000:]
        assert answers["role"].status_code == 200 and answers["app"].status_code == 200
        assert "fixahead_web_db_slots" in answers["metrics"].text
    finally:
        proc.terminate()
        proc.wait(20)
