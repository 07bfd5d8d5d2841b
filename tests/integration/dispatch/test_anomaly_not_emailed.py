"""The generic detector's incidents (ANOMALY:<metric>) reach the board, never a customer."""

from __future__ import annotations

import psycopg
import pytest

from dispatch.service import dispatch_incident
from rules.incidents import IncidentBook, Signal
from rules.store import save_changes
from tests.support.board import now_utc, seed_job
from tests.support.dispatch import PORTS

pytestmark = pytest.mark.integration


def test_an_anomaly_incident_gets_no_email_and_no_visit(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        now = now_utc()
        job = seed_job(conn, now=now, technicians=1)  # a customer with a washer
        device = conn.execute("SELECT device FROM incidents WHERE key = %s",
                              (job.incident_key,)).fetchone()[0]
        emails = conn.execute("SELECT count(*) FROM email_outbox").fetchone()[0]
        ms = int(now.timestamp() * 1000)
        changes = IncidentBook().apply(Signal(
            device=device, fault="ANOMALY:water_inflow", source="generic:water_inflow",
            on=True, ts_ms=ms, severity="info", title="Unusual water inflow readings"))
        [key] = save_changes(conn, changes)
        out = dispatch_incident(conn, incident_id=key, device_id=job.device_id,
                                model_id="WM-800", code="ANOMALY:water_inflow", now=now,
                                ports=PORTS)
        assert out is None
        assert conn.execute("SELECT count(*) FROM email_outbox").fetchone()[0] == emails
        assert conn.execute("SELECT count(*) FROM dispatch_decisions WHERE incident_id = %s",
                            (key,)).fetchone()[0] == 0
