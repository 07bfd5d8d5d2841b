"""`fixahead bench incidents --quick` through the real platform: every event gets its incident."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixahead.cli import app

pytestmark = pytest.mark.integration


def test_quick_incident_bench_measures_every_event_to_its_incident(
        admin_database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "bench-incidents.json"
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        run = CliRunner().invoke(app, ["bench", "incidents", "--quick", "--json", str(out)], env={
            "FIXAHEAD_DATABASE_URL": admin_database_url, "FIXAHEAD_DATA_DIR": str(tmp_path),
            "FIXAHEAD_LOG_LEVEL": "WARNING"})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    assert doc["bench"] == "incidents"
    assert set(doc) == {"bench", "metrics", "baselines", "ratios", "config"}
    m, b = doc["metrics"], doc["baselines"]
    # every error event, loaded and unloaded, was matched to its incident
    assert m["events_without_incident"] == 0
    assert m["events_measured"] == doc["config"]["events_loaded"] > 0
    assert b["events_measured"] == doc["config"]["events_unloaded"] > 0
    for figures in (m, b):
        assert 0 < figures["p50_event_to_incident_ms"] <= figures["p99_event_to_incident_ms"]
        assert figures["p99_event_to_incident_ms"] < 60_000
    assert m["loaded"]["p50_publish_to_incident_ms"] > 0
    # the load was really applied while the events were measured
    assert m["ingest_readings_per_s"] > 0.3 * m["offered_readings_per_s"] > 0
    assert m["pipeline"]["incidents_changed"] >= m["events_measured"]
    assert {"p99_loaded_vs_unloaded", "p99_vs_target", "ingest_achieved_vs_offered"} <= set(
        doc["ratios"])
