"""What dispatch knows of an incident it acts on, read through its ports as production wires
them (the remaining life is rules')."""

from __future__ import annotations

import json

import psycopg
import pytest

from dispatch.service import incident_info
from tests.support.board import now_utc, seed_job
from tests.support.dispatch import PORTS

pytestmark = pytest.mark.integration


def test_an_incident_carries_the_remaining_life_rules_estimated(database_url: str) -> None:
    now = now_utc()
    with psycopg.connect(database_url, autocommit=True) as conn:
        worn, other = seed_job(conn, now=now), seed_job(conn, now=now, suffix="2")
        life = {"days": 12.5, "lo": 8.0, "hi": None, "at": now.isoformat(), "text": "12 days"}
        conn.execute("UPDATE incidents SET detail = %s WHERE key = %s",
                     (json.dumps({"remaining_life": life}), worn.incident_key))

        def info(job):  # type: ignore[no-untyped-def]
            return incident_info(conn, incident_id=job.incident_key, device_id=job.device_id,
                                 model_id="WM-800", code="E60", opened_at=now, ports=PORTS)

        assert info(worn).remaining_life == {"days": 12.5, "lo": 8.0, "hi": None}
        assert info(other).remaining_life is None
