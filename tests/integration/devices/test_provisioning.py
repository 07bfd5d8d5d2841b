"""Registering devices one by one and in bulk, rotating and revoking, against PostgreSQL."""

from __future__ import annotations

import time

import psycopg
import pytest

from devices.audit import audit_trail
from devices.credentials import verify_secret
from devices.customers import Customer, Household
from devices.customerstore import Conflict, NotFound, create_customer, create_household
from devices.provisioning import get_device, import_csv, list_devices, register, revoke, rotate
from devices.store import load_registry

pytestmark = pytest.mark.integration


def stored_hash(conn: psycopg.Connection, device_id: str) -> str | None:
    row = conn.execute("SELECT secret_hash FROM devices WHERE device_id = %s",
                       (device_id,)).fetchone()
    return None if row is None else row[0]


def test_a_registered_device_keeps_only_a_hash_of_its_secret(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        device, secret = register(conn, model_id="WM-800", actor="test", firmware="2.0")
        stored = stored_hash(conn, device.device_id)
        assert stored is not None and stored.startswith("$7$") and secret not in stored
        assert verify_secret(secret, stored)
        assert device.model_id == "WM-800" and device.state == "active"
        assert audit_trail(conn, "device", device.device_id)[0]["action"] == "device.register"
        assert device.device_id in load_registry(conn).devices


def test_registering_an_unknown_model_or_a_taken_id_fails_clearly(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        register(conn, model_id="WM-800", device_id="dup-1", actor="test")
        with pytest.raises(Conflict, match="registered already"):
            register(conn, model_id="WM-800", device_id="dup-1", actor="test")
        with pytest.raises(ValueError, match="not in the catalog"):
            register(conn, model_id="NOPE-1", actor="test")
        with pytest.raises(NotFound, match="hh-missing"):
            register(conn, model_id="WM-800", household_id="hh-missing", actor="test")


def test_rotation_replaces_the_secret_and_revocation_removes_it(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        device, old = register(conn, model_id="FR-300", actor="test")
        new = rotate(conn, device.device_id, actor="test")
        assert verify_secret(new, stored_hash(conn, device.device_id))
        assert not verify_secret(old, stored_hash(conn, device.device_id))
        assert revoke(conn, device.device_id, actor="test").state == "revoked"
        assert stored_hash(conn, device.device_id) is None
        assert load_registry(conn).devices[device.device_id].revoked
        with pytest.raises(Conflict, match="revoked"):
            rotate(conn, device.device_id, actor="test")
        with pytest.raises(NotFound):
            revoke(conn, "no-such-device", actor="test")
        actions = [r["action"] for r in audit_trail(conn, "device", device.device_id)]
        assert actions == ["device.register", "device.rotate", "device.revoke"]


@pytest.mark.slow
def test_ten_thousand_devices_import_well_under_a_minute(database_url: str) -> None:
    lines = ["device_id,model,firmware,household_id"]
    lines += [f"bulk-{i:05d},{'WM-800' if i % 2 else 'FR-300'},2.{i % 7}," for i in range(10_000)]
    seen: list[int] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        started = time.perf_counter()
        result = import_csv(conn, "\n".join(lines) + "\n", actor="test",
                            progress=lambda done, total: seen.append(done))
        elapsed = time.perf_counter() - started
        assert result.ok and len(result.secrets) == 10_000
        assert elapsed < 45, f"import took {elapsed:.1f}s"
        print(f"imported 10,000 devices in {elapsed:.1f}s")
        assert seen[-1] == 10_000 and len(seen) == 100
        assert conn.execute("SELECT count(*) FROM devices WHERE device_id LIKE 'bulk-%'"
                            ).fetchone() == (10_000,)
        sample = "bulk-04321"
        assert verify_secret(result.secrets[sample], stored_hash(conn, sample))


def test_a_file_with_one_bad_row_imports_nothing_and_names_the_row(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        create_customer(conn, Customer("cus-1", "Ada", "ada@example.org"))
        create_household(conn, Household("hh-1", "cus-1"))
        good = [f"ok-{i},WM-800,,hh-1" for i in range(50)]
        text = "\n".join(["device_id,model,firmware,household_id", *good[:25],
                          "bad-1,WM-999,,hh-1", *good[25:]]) + "\n"
        result = import_csv(conn, text, actor="test")
        assert not result.ok and result.secrets == {}
        assert [str(e) for e in result.errors] == ["line 27: model: 'WM-999' is not in the catalog"]
        assert conn.execute("SELECT count(*) FROM devices").fetchone() == (0,)
        fixed = text.replace("WM-999", "WM-800")
        assert import_csv(conn, fixed, actor="test").ok
        assert len(list_devices(conn, household_id="hh-1", limit=1000)) == 51
        assert get_device(conn, "bad-1").household_id == "hh-1"
