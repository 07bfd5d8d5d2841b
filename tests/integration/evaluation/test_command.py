"""`fixahead evaluate` on a real database: a run id resolves, JSON and report are written."""

from __future__ import annotations

import importlib
import json
import logging
from pathlib import Path

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from fixahead.commands import evaluation
from tests.integration.evaluation.test_records import (
    FRIDGE,
    add_fleet,
    add_incident,
    at,
    write_truth,
)

pytestmark = pytest.mark.integration


def run(database_url: str, data_dir: Path, *args: str) -> tuple[int, str]:
    """Invoke `evaluate` against `database_url` with `data_dir`; (exit code, output)."""
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command keeps "evaluate" a sub-command
    evaluation.register(app)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(app, list(args), env={
            "FIXAHEAD_DATABASE_URL": database_url, "FIXAHEAD_DATA_DIR": str(data_dir),
            "FIXAHEAD_LOG_LEVEL": "WARNING"})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return result.exit_code, result.output


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


def _has_run_scenario() -> bool:
    try:
        return hasattr(importlib.import_module("fixahead.pipeline"), "run_scenario")
    except ImportError:
        return False


@pytest.mark.skipif(_has_run_scenario(),
                    reason="run_scenario exists: a whole scenario is too slow for this test")
def test_evaluate_a_new_scenario_says_what_is_missing_without_the_pipeline(
        database_url: str, tmp_path: Path) -> None:
    code, text = run(database_url, tmp_path, "evaluate", "--households", "2", "--days", "1",
                     "--json", str(tmp_path / "x.json"))
    assert code == 2 and "run_scenario" in text
