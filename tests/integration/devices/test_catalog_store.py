"""The catalog as stored in PostgreSQL: every field of an entry, texts per language, versions."""

from __future__ import annotations

import psycopg
import pytest

from devices.catalog import load_catalog
from devices.store import sync_catalog

pytestmark = pytest.mark.integration


def test_synced_catalog_holds_handling_texts_and_firmware_versions(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            """SELECT severity, customer_fixable, urgent, skill, parts, visit_minutes
               FROM error_codes WHERE model_id = 'WM-800' AND code = 'E90'"""
        ).fetchone()
        assert row == ("critical", False, True, "plumbing", ["door seal", "drain hose"], 90)
        de = conn.execute(
            """SELECT title, steps FROM error_code_texts
               WHERE model_id = 'WM-800' AND code = 'E21' AND language = 'de'"""
        ).fetchone()
        assert de is not None and de[0] == "Wasser wird nicht abgepumpt" and len(de[1]) == 5
        versions = conn.execute(
            """SELECT version, firmware_min, firmware_max, codes FROM model_catalogs
               WHERE model_id = 'WM-800' ORDER BY version"""
        ).fetchall()
        assert versions[0][:3] == ("2026.1", "1.0", "3.0") and "E40" not in versions[0][3]
        assert versions[1][:3] == ("2026.2", "3.0", "") and "E40" in versions[1][3]
        typical = conn.execute(
            """SELECT typical_min, typical_max, period_s FROM model_metrics
               WHERE model_id = 'FR-300' AND name = 'compressor_duty'"""
        ).fetchone()
        assert typical == (20.0, 60.0, 600.0)
        kinds = {k for (k,) in conn.execute("SELECT kind FROM models")}
        assert {"washer", "dryer", "dishwasher", "fridge", "heat_pump", "water_heater"} <= kinds


def test_syncing_the_catalog_twice_changes_nothing(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        def snapshot() -> list[tuple]:
            return conn.execute(
                """SELECT t.model_id, t.code, t.language, t.title, t.steps
                   FROM error_code_texts t ORDER BY 1, 2, 3"""
            ).fetchall()
        before = snapshot()
        sync_catalog(conn, load_catalog())
        assert snapshot() == before
