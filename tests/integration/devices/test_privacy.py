"""Customer export and erasure against real PostgreSQL: complete, audited, and thorough."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from devices.audit import audit, audit_trail
from devices.customers import ConsentChange, Customer, Household
from devices.customerstore import (
    Conflict,
    NotFound,
    assign_device,
    consents,
    create_customer,
    create_household,
    record_consent,
)
from devices.privacy import discover_links, erase_customer, export_customer
from devices.store import register_device

pytestmark = pytest.mark.integration

NAME, EMAIL = "Zelda Quixotewright", "zelda.quixotewright@example.org"


def seed(conn: psycopg.Connection, customer_id: str = "cus-zelda", name: str = NAME,
         email: str = EMAIL, device_id: str = "wm-zelda-1", street: str = "Lindenweg 7") -> int:
    """A customer with a household, a device with telemetry, events and a dead letter."""
    create_customer(conn, Customer(customer_id, name, email, language="de",
                                   time_zone="Europe/Berlin", street=street,
                                   postal_code="10115", city="Berlin", country="DE",
                                   lat=52.53, lon=13.38))
    create_household(conn, Household(f"hh-{customer_id}", customer_id))
    key = register_device(conn, device_id, "WM-800", secret_hash="x")
    assign_device(conn, device_id, f"hh-{customer_id}")
    audit(conn, actor="test", action="household.create", subject_type="household",
          subject_id=f"hh-{customer_id}")
    audit(conn, actor="test", action="device.assign", subject_type="device",
          subject_id=device_id, detail={"household_id": f"hh-{customer_id}"})
    record_consent(conn, customer_id, ConsentChange("proactive_email", True, "web-signup"))
    record_consent(conn, customer_id, ConsentChange("usage_for_availability", True, "web"))
    record_consent(conn, customer_id, ConsentChange("usage_for_availability", False, "email"))
    now = datetime.now(UTC)
    conn.execute("INSERT INTO telemetry (time, device, metric, value) VALUES (%s, %s, 3, 95.0)",
                 (now, key))
    conn.execute("INSERT INTO events (time, device, seq, kind, code, title, severity) "
                 "VALUES (%s, %s, 1, 'error', 'E21', 'Water does not drain', 'error')",
                 (now, key))
    conn.execute("INSERT INTO ingest_messages (device, seq) VALUES (%s, 1)", (key,))
    conn.execute("INSERT INTO dead_letters (topic, device_id, reason, detail, payload) "
                 "VALUES (%s, %s, 'bad', 'x', '\\x00')",
                 (f"fixahead/v1/{device_id}/telemetry", device_id))
    return key


def occurrences(conn: psycopg.Connection, needle: str) -> list[str]:
    """Every table.column in the database whose text contains `needle`."""
    hits = []
    for schema, table, column in conn.execute(
        """SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE t.table_type = 'BASE TABLE'
             AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"""
    ).fetchall():
        query = psycopg.sql.SQL("SELECT count(*) FROM {}.{} WHERE {}::text ILIKE %s").format(
            psycopg.sql.Identifier(schema), psycopg.sql.Identifier(table),
            psycopg.sql.Identifier(column))
        row = conn.execute(query, (f"%{needle}%",)).fetchone()
        if row and row[0]:
            hits.append(f"{schema}.{table}.{column}")
    return hits


def test_consent_changes_apply_at_once_and_keep_their_history(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        seed(conn)
        now = consents(conn, "cus-zelda")
        assert now.proactive_email and not now.usage_for_availability
        assert [(c.kind, c.granted, c.source) for c in now.history][-1] == (
            "usage_for_availability", False, "email")
        assert all(c.recorded_at is not None for c in now.history)


def test_export_holds_every_linked_table_and_no_secrets(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        key = seed(conn)
        seed(conn, "cus-other", "Other Person", "other@example.org", "wm-other-1", "Hauptstr. 1")
        doc = export_customer(conn, "cus-zelda", actor="test")
        tables = doc["tables"]
        linked = {link.table for link in discover_links(conn)}
        for table in linked | {"customers"}:
            if table == "audit_log":
                continue
            has_rows = conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))
            ).fetchone()[0]
            if has_rows:
                assert tables.get(table), f"export lacks rows of {table}"
        assert tables["customers"][0]["email"] == EMAIL
        assert [d["device_id"] for d in tables["devices"]] == ["wm-zelda-1"]
        assert all("secret_hash" not in d for d in tables["devices"])
        assert {r["device"] for r in tables["telemetry"]} == {key}
        assert len(tables["consents"]) == 3
        assert "Other Person" not in str(doc) and "wm-other-1" not in str(doc)
        trail = audit_trail(conn, "customer", "cus-zelda")
        assert trail[-1]["action"] == "customer.export"


def test_erasure_leaves_no_personal_data_and_detaches_telemetry(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        key = seed(conn)
        seed(conn, "cus-other", "Other Person", "other@example.org", "wm-other-1", "Hauptstr. 1")
        summary = erase_customer(conn, "cus-zelda", actor="test")
        assert summary["devices_detached"] == 1
        for needle in (NAME, EMAIL, "Quixotewright", "Lindenweg", "wm-zelda-1", "hh-cus-zelda"):
            assert occurrences(conn, needle) == [], needle
        row = conn.execute("SELECT device_id, household_id, state, secret_hash FROM devices "
                           "WHERE id = %s", (key,)).fetchone()
        assert row[0].startswith("erased-") and row[1:] == (None, "revoked", None)
        assert conn.execute("SELECT count(*) FROM telemetry WHERE device = %s",
                            (key,)).fetchone() == (1,)
        assert occurrences(conn, "Other Person") != []
        assert [r["action"] for r in audit_trail(conn, "customer", "cus-zelda")] == [
            "customer.erase"]
        with pytest.raises(NotFound):
            export_customer(conn, "cus-zelda", actor="test")


def test_erasure_reaches_tables_of_other_areas_in_dependency_order(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        seed(conn)
        # another area's tables, found by their customer_id columns; the child references the
        # parent, and sorts after it, so a naive order would trip over the foreign key
        conn.execute("CREATE TABLE fx_area_jobs (id int PRIMARY KEY, customer_id text, "
                     "address text)")
        conn.execute("CREATE TABLE fx_area_mails (id int PRIMARY KEY, customer_id text, "
                     "job int REFERENCES fx_area_jobs, body text)")
        conn.execute("INSERT INTO fx_area_jobs VALUES (1, 'cus-zelda', 'Lindenweg 7')")
        conn.execute("INSERT INTO fx_area_mails VALUES (1, 'cus-zelda', 1, %s)",
                     (f"Dear {NAME}, ...",))
        if conn.execute("SELECT to_regclass('email_outbox')").fetchone()[0]:
            conn.execute(
                """INSERT INTO email_outbox (idempotency_key, kind, customer_id, to_addr,
                   payload, send_at) VALUES ('k1', 'self_help', 'cus-zelda', %s, %s, now())""",
                (EMAIL, psycopg.types.json.Jsonb({"name": NAME})))
        doc = export_customer(conn, "cus-zelda", actor="test")
        assert doc["tables"]["fx_area_mails"][0]["body"].startswith("Dear Zelda")
        summary = erase_customer(conn, "cus-zelda", actor="test")
        assert summary["deleted_rows"]["fx_area_jobs"] == 1
        for needle in (NAME, EMAIL, "Lindenweg"):
            assert occurrences(conn, needle) == [], needle


def test_erasure_blocked_by_unlinked_references_changes_nothing(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        seed(conn)
        conn.execute("CREATE TABLE fx_area_jobs (id int PRIMARY KEY, customer_id text)")
        conn.execute("CREATE TABLE fx_area_notes (id int PRIMARY KEY, "
                     "job int REFERENCES fx_area_jobs)")
        conn.execute("INSERT INTO fx_area_jobs VALUES (1, 'cus-zelda')")
        conn.execute("INSERT INTO fx_area_notes VALUES (1, 1)")
        with pytest.raises(Conflict, match=r"fx_area_jobs\.customer_id"):
            erase_customer(conn, "cus-zelda", actor="test")
        assert occurrences(conn, EMAIL) == ["public.customers.email"]
        assert conn.execute("SELECT count(*) FROM devices WHERE device_id = 'wm-zelda-1'"
                            ).fetchone() == (1,)
