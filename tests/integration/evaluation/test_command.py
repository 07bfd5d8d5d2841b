"""`fixahead evaluate` on a real database: a run id resolves, JSON and report are written."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.support.evaluation import FRIDGE, add_fleet, add_incident, at, write_truth
from tests.support.evaluation import run_evaluate as run

pytestmark = pytest.mark.integration


def test_evaluate_a_run_by_id_writes_json_and_a_report_beside_it(
        database_url: str, tmp_path: Path) -> None:
    write_truth(tmp_path / "simulations" / "s7-1", away=[])
    with psycopg.connect(database_url, autocommit=True) as conn:
        dev = add_fleet(conn)
        add_incident(conn, dev[FRIDGE], "F7", at(5, 10), kind="error")
    out = tmp_path / "out" / "eval.json"
    code, text = run(database_url, tmp_path, "evaluate", "--run", "s7-1", "--json", str(out))
    assert code == 0, text
    doc = json.loads(out.read_text())
    assert doc["detection"]["sudden_acted_share"] == 0.0  # an incident, but no email or visit
    assert doc["counts"]["incidents"] == 1
    assert "## Detection" in out.with_suffix(".md").read_text()


def test_evaluate_refuses_an_unknown_run_and_a_missing_choice(
        database_url: str, tmp_path: Path) -> None:
    code, text = run(database_url, tmp_path, "evaluate", "--run", "nope", "--json", "x.json")
    assert code == 2 and "no run 'nope'" in text
    code, text = run(database_url, tmp_path, "evaluate", "--json", "x.json")
    assert code == 2 and "--households" in text


@pytest.mark.slow
def test_evaluate_runs_a_small_scenario_through_the_platform_and_scores_it(
        database_url: str, mqtt_url: str, topic_prefix: str, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    code, text = run(database_url, tmp_path, "evaluate", "--households", "2", "--days", "1",
                     "--seed", "3", "--json", str(out),
                     env={"FIXAHEAD_MQTT_URL": mqtt_url, "FIXAHEAD_TOPIC_PREFIX": topic_prefix})
    assert code == 0, text
    doc = json.loads(out.read_text())
    assert doc["counts"]["households"] == 2 and doc["counts"]["devices"] > 0
    assert doc["config"]["run_dir"].startswith(str(tmp_path / "simulations"))
    assert out.with_suffix(".md").exists()


def test_evaluate_refuses_a_bad_or_future_end(database_url: str, tmp_path: Path) -> None:
    code, text = run(database_url, tmp_path, "evaluate", "--households", "1", "--end",
                     "22.11.2026", "--json", "x.json")
    assert code == 2 and "not a date like" in text
    code, text = run(database_url, tmp_path, "evaluate", "--households", "1", "--end",
                     "2999-01-01", "--json", "x.json")
    assert code == 2 and "in the future" in text


def test_evaluate_refuses_paired_without_a_new_scenario(database_url: str, tmp_path: Path):
    write_truth(tmp_path / "simulations" / "s7-1", away=[])
    code, text = run(database_url, tmp_path, "evaluate", "--run", "s7-1", "--paired",
                     "--json", "x.json")
    assert code == 2 and "--paired runs new scenarios" in text


@pytest.mark.slow
def test_evaluate_paired_runs_the_reference_apart_and_reports_what_trouble_caused(
        database_url: str, mqtt_url: str, topic_prefix: str, tmp_path: Path) -> None:
    """The same seed without trouble runs in the sibling database `<name>_ref` and its own
    data folder; the run's JSON says what only the run with the broker restart has."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from fixahead.lab.reference import sibling_database

    out = tmp_path / "eval.json"
    ref_url = sibling_database(database_url)
    try:
        code, text = run(database_url, tmp_path, "evaluate", "--households", "2", "--days",
                         "1", "--seed", "3", "--broker-restart", "--broker-restart-minutes",
                         "60", "--paired", "--json", str(out),
                         env={"FIXAHEAD_MQTT_URL": mqtt_url,
                              "FIXAHEAD_TOPIC_PREFIX": topic_prefix})
        assert code == 0, text
        doc = json.loads(out.read_text())
        p = doc["paired"]
        assert p["reference_run_dir"].startswith(str(tmp_path / "reference" / "simulations"))
        assert p["emails_caused"] == 0 and p["false_alarms_caused"] == 0
        ref = json.loads((tmp_path / "eval-ref.json").read_text())
        assert ref["counts"]["devices"] == doc["counts"]["devices"] > 0
        with psycopg.connect(ref_url) as conn:  # the reference fleet is in its own database
            assert conn.execute("SELECT count(*) FROM devices").fetchone()[0] > 0
        assert "paired with the run without trouble" in text
    finally:
        name = conninfo_to_dict(ref_url)["dbname"]
        with psycopg.connect(make_conninfo(database_url, dbname="postgres"),
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
