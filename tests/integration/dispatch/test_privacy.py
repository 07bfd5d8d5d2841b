from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from dispatch import adapter
from dispatch.service import handle_incident
from dispatch.types import FaultInfo, IncidentInfo
from tests.support.dispatch import add_customer, add_technicians

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MOTOR = FaultInfo("E50", "Motor fault", skill="washer")

PERSONAL = ("email_outbox", "visits", "dispatch_decisions", "household_availability")


def test_erasing_a_customer_removes_their_dispatch_rows(database_url: str) -> None:
    privacy = pytest.importorskip("devices.privacy")
    with psycopg.connect(database_url, autocommit=True) as conn:
        add_customer(conn, "cus-1", email="ada@example.org", device_id="d1")
        add_technicians(conn, 1)
        c = adapter.load_customer(conn, customer_id="cus-1")
        assert c
        out = handle_incident(conn, IncidentInfo("inc-1", "d1", "WM-800", MOTOR, NOW), c,
                              now=NOW, p_home=lambda _: 0.5)
        assert out.visit_id is not None
        conn.execute("INSERT INTO household_availability (customer_id, tz, p_home, confidence) "
                     "VALUES ('cus-1', 'UTC', array_fill(0.5::float8, ARRAY[168]), "
                     "array_fill(0.5::float8, ARRAY[168]))")
        exported = privacy.export_customer(conn, "cus-1", actor="test")
        for table in PERSONAL:
            assert exported["tables"].get(table), f"{table} is missing from the export"
        privacy.erase_customer(conn, "cus-1", actor="test")
        for table in PERSONAL:
            left = conn.execute(f"SELECT count(*) FROM {table} WHERE customer_id = 'cus-1'")
            assert left.fetchone() == (0,), table
        assert conn.execute("SELECT count(*) FROM email_outbox "
                            "WHERE to_addr = 'ada@example.org'").fetchone() == (0,)
