"""`fixahead bench incidents --quick` through the real platform, as one process and as the
separate `run ingest|rules|dispatch` roles: every event gets its incident."""

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
    # the production topology: the roles as subprocesses, measured the same way
    r, rb = m["roles"], b["roles_unloaded"]
    assert r["events_without_incident"] == 0
    assert r["events_measured"] == doc["config"]["events_loaded"]
    assert rb["missing"] == 0 and rb["events_measured"] == doc["config"]["events_unloaded"]
    for figures in (r, rb):
        assert 0 < figures["p50_event_to_incident_ms"] <= figures["p99_event_to_incident_ms"]
        assert figures["p99_event_to_incident_ms"] < 60_000
    # the incident is written after the event was committed, and seen after it was written
    for figures in (r["loaded"], rb):
        assert 0 <= figures["p50_event_to_incident_write_ms"] <= figures[
            "p50_event_to_incident_ms"]
    assert r["ingest_readings_per_s"] > 0.3 * r["offered_readings_per_s"] > 0
    # the roles did their work: every incident recorded, and dispatch decided on them
    assert r["incidents_changed"] >= r["events_measured"] + rb["events_measured"]
    assert r["decisions"] >= r["events_measured"]
    assert {"roles_p99_vs_target", "p99_roles_vs_single_process",
            "roles_ingest_achieved_vs_offered"} <= set(doc["ratios"])
    assert doc["config"]["topology"] == "both"
