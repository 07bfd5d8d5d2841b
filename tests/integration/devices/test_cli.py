"""`fixahead devices ...` end to end on a real database."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from devices.credentials import verify_secret
from fixahead.cli import _register_areas, app
from tests.integration.devices.mqttclient import Client
from tests.support.cli import invoke
from tests.support.services import Mosquitto, mosquitto_binary

pytestmark = pytest.mark.integration

_register_areas()


def run(database_url: str, *args: str) -> tuple[int, str]:
    """Invoke the CLI against `database_url`; (exit code, output)."""
    return invoke(app, args, {"FIXAHEAD_DATABASE_URL": database_url,
                              "FIXAHEAD_LOG_LEVEL": "WARNING"})


def test_register_prints_the_id_and_the_secret_once(database_url: str) -> None:
    code, out = run(database_url, "devices", "register", "--model", "WM-800", "--json")
    assert code == 0, out
    doc = json.loads(out)
    with psycopg.connect(database_url) as conn:
        (stored,) = conn.execute("SELECT secret_hash FROM devices WHERE device_id = %s",
                                 (doc["device_id"],)).fetchone()
    assert verify_secret(doc["secret"], stored)
    code, out = run(database_url, "devices", "show", doc["device_id"], "--json")
    assert code == 0 and doc["secret"] not in out and json.loads(out)["model_id"] == "WM-800"


def test_an_unknown_model_is_a_clear_error(database_url: str) -> None:
    code, out = run(database_url, "devices", "register", "--model", "ZZ-1")
    assert code == 1 and "not in the catalog" in out


def test_import_reports_bad_rows_and_writes_secrets_privately(database_url: str,
                                                              tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("device_id,model\nd-1,WM-800\nd-2,XX-9\n")
    code, out = run(database_url, "devices", "import", str(bad))
    assert code == 1 and "line 3: model: 'XX-9' is not in the catalog" in out
    assert not (tmp_path / "bad.secrets.csv").exists()
    good = tmp_path / "good.csv"
    good.write_text("device_id,model\nd-1,WM-800\nd-2,FR-300\n")
    code, out = run(database_url, "devices", "import", str(good))
    assert code == 0 and "registered 2 devices" in out
    secrets = tmp_path / "good.secrets.csv"
    assert secrets.stat().st_mode & 0o777 == 0o600
    assert secrets.read_text().splitlines()[0] == "device_id,secret"
    again = tmp_path / "more.csv"
    again.write_text("device_id,model\nd-3,WM-800\n")
    code, out = run(database_url, "devices", "import", str(again), "--secrets-out",
                    str(secrets))
    assert code == 1 and "cannot create" in out
    assert len(secrets.read_text().splitlines()) == 3  # the earlier secrets are kept


def test_customer_export_and_erase_from_the_command_line(database_url: str,
                                                         tmp_path: Path) -> None:
    code, out = run(database_url, "devices", "customer", "add", "--name", "Bo Brandt",
                    "--email", "bo@example.org", "--id", "cus-bo", "--language", "de",
                    "--city", "Köln", "--lat", "50.94", "--lon", "6.96")
    assert code == 0, out
    code, out = run(database_url, "devices", "customer", "consent", "cus-bo",
                    "proactive_email", "--grant", "--source", "phone-call")
    assert code == 0 and "proactive_email=True" in out
    code, out = run(database_url, "devices", "register", "--model", "FR-300", "--household",
                    "hh-bo", "--json")
    assert code == 0, out
    export = tmp_path / "bo.json"
    code, out = run(database_url, "devices", "customer", "export", "cus-bo", "--out",
                    str(export))
    assert code == 0, out
    tables = json.loads(export.read_text())["tables"]
    assert tables["customers"][0]["name"] == "Bo Brandt" and len(tables["devices"]) == 1
    assert tables["customers"][0]["lat"] == 50.94
    code, out = run(database_url, "devices", "list", "--household", "hh-bo", "--json")
    assert code == 0 and len(json.loads(out)) == 1
    code, out = run(database_url, "devices", "customer", "erase", "cus-bo", "--yes")
    assert code == 0 and json.loads(out)["devices_detached"] == 1
    code, out = run(database_url, "devices", "customer", "export", "cus-bo")
    assert code == 1 and "does not exist" in out


def test_catalog_shows_german_steps_for_a_firmware(database_url: str) -> None:
    code, out = run(database_url, "devices", "catalog", "WM-800", "--firmware", "2.5",
                    "--lang", "de", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["version"] == "2026.1" and "E40" not in {c["code"] for c in doc["codes"]}
    e21 = next(c for c in doc["codes"] if c["code"] == "E21")
    assert e21["title"] == "Wasser wird nicht abgepumpt" and len(e21["steps"]) == 5


def test_broker_files_are_written_for_the_registry(database_url: str, tmp_path: Path) -> None:
    run(database_url, "devices", "register", "--model", "WM-800", "--id", "wm-cli-1")
    code, out = run(database_url, "devices", "broker-files", "--out", str(tmp_path),
                    "--port", "18883")
    assert code == 0, out
    assert (tmp_path / "passwords").read_text().count("wm-cli-1:$7$") == 1
    assert "listener 18883" in (tmp_path / "mosquitto.conf").read_text()


def test_token_create_mints_a_working_token_stored_hashed(database_url: str) -> None:
    from fixahead.web.auth import authenticate

    code, out = run(database_url, "devices", "token", "create", "--role", "scheduler",
                    "--name", "board", "--json")
    assert code == 0, out
    token = json.loads(out)["token"]
    with psycopg.connect(database_url) as conn:
        principal = authenticate(conn, token)
        stored = conn.execute("SELECT token_hash FROM api_tokens").fetchall()
    assert principal is not None and principal.role == "scheduler"
    assert token not in str(stored)
    code, out = run(database_url, "devices", "token", "create", "--role", "root")
    assert code == 1 and "role must be one of" in out
    code, out = run(database_url, "devices", "token", "revoke", str(principal.token_id))
    assert code == 0
    with psycopg.connect(database_url) as conn:
        assert authenticate(conn, token) is None


@pytest.mark.skipif(mosquitto_binary() is None, reason="needs Mosquitto: apt-get install mosquitto")
def test_broker_files_reload_admits_a_newly_registered_device(database_url: str) -> None:
    out = Path(tempfile.mkdtemp(prefix="fxcli-"))
    out.chmod(0o711)  # Mosquitto reads its files as the `mosquitto` user
    try:
        assert run(database_url, "devices", "broker-files", "--out", str(out))[0] == 0
        broker = Mosquitto(out, password_file=out / "passwords", acl_file=out / "acl").start()
        try:
            code, reg = run(database_url, "devices", "register", "--model", "WM-800", "--json")
            doc = json.loads(reg)
            before = Client(broker.port, doc["device_id"], doc["secret"])
            code, msg = run(database_url, "devices", "broker-files", "--out", str(out),
                            "--reload", str(broker.proc.pid))
            assert code == 0 and "reloaded" in msg
            time.sleep(0.3)
            after = Client(broker.port, doc["device_id"], doc["secret"])
            assert not before.accepted and after.accepted
            before.close()
            after.close()
        finally:
            broker.stop()
    finally:
        shutil.rmtree(out, ignore_errors=True)
