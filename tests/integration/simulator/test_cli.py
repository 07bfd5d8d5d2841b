"""`fixahead simulate` registers the fleet, publishes it and writes its ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from devices.credentials import verify_secret
from devices.provisioning import provision_fleet
from fixahead.commands.simulation import register
from simulator.groundtruth import read_ground_truth
from tests.support.mqtt import Collector

pytestmark = pytest.mark.integration


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from flattening the app
        """Nothing."""

    return app


def test_simulate_publishes_every_message_and_writes_ground_truth(
        database_url: str, mqtt_url: str, topic_prefix: str, tmp_path: Path) -> None:
    env = {"FIXAHEAD_DATABASE_URL": database_url, "FIXAHEAD_MQTT_URL": mqtt_url,
           "FIXAHEAD_TOPIC_PREFIX": topic_prefix, "FIXAHEAD_DATA_DIR": str(tmp_path / "data"),
           "FIXAHEAD_LOG_LEVEL": "WARNING"}
    collector = Collector(mqtt_url, topic_prefix)
    try:
        result = CliRunner().invoke(
            _app(), ["simulate", "--households", "4", "--days", "0.5", "--seed", "3",
                     "--processes", "2", "--out", str(tmp_path / "gt")], env=env)
        assert result.exit_code == 0, result.output
        published = json.loads((tmp_path / "gt" / "publish.json").read_text())["published"]
        got = collector.wait_for(published)
    finally:
        collector.close()
    assert published > 0 and len(got) == published
    assert "FIXAHEAD_MAX_PAST_AGE_S=" in result.output
    truth = read_ground_truth(tmp_path / "gt")
    assert truth["run"]["seed"] == 3 and len(truth["presence"]) == 4
    with psycopg.connect(database_url) as conn:
        registered = {r[0] for r in conn.execute("SELECT device_id FROM devices")}
    assert {d["device_id"] for d in truth["devices"]} <= registered


def provision(database_url: str, devices: list[tuple[str, str]]) -> dict[str, str]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return provision_fleet(conn, devices)


def test_provisioning_gives_fresh_secrets_that_match_the_stored_hashes(
        database_url: str) -> None:
    first = provision(database_url, [("sim-a", "WM-800")])
    second = provision(database_url, [("sim-a", "WM-800")])
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT secret_hash FROM devices WHERE device_id = 'sim-a'").fetchone()
    assert row is not None
    assert verify_secret(second["sim-a"], row[0]) and not verify_secret(first["sim-a"], row[0])
