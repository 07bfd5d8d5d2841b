"""Score one run end to end: ground truth + database -> JSON + Markdown report (use case)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from fixahead.lab.evaluation.records import load_records
from fixahead.lab.evaluation.report import write_report
from fixahead.lab.evaluation.score import score
from fixahead.lab.evaluation.storms import robustness
from simulator.groundtruth import read_ground_truth


def resolve_run(run: str, data_dir: Path) -> Path:
    """A run directory from a path, or from a run id under `data_dir/simulations`."""
    candidates = [Path(run).expanduser(), data_dir / "simulations" / run]
    for path in candidates:
        if path.is_dir() and any(path.glob("run*.json")):
            return path
    raise FileNotFoundError(
        f"no run {run!r}: neither a ground-truth directory nor a run id under "
        f"{data_dir / 'simulations'}")


def evaluate_run(database_url: str, run_dir: Path, json_path: Path, *,
                 grace_days: float = 1.0) -> tuple[dict[str, Any], list[Path]]:
    """Score the run in `run_dir` against the database; write the JSON and the report (with
    the platform trouble injected into the run, from its `trouble.json`)."""
    truth = read_ground_truth(run_dir)
    injected = run_dir / "trouble.json"
    trouble: Sequence[tuple[str, int, int]] = [
        (k, int(a), int(b)) for k, a, b in json.loads(injected.read_text())["windows"]
    ] if injected.exists() else []
    with psycopg.connect(database_url, autocommit=True) as conn:
        records = load_records(conn, truth, grace_days=grace_days)
    doc = score(truth, records, grace_days=grace_days)
    doc["robustness"] = robustness(truth, records, doc["details"]["false_alarms"], trouble,
                                   grace_ms=int(grace_days * 86_400_000))
    doc["config"]["run_dir"] = str(run_dir)
    return doc, write_report(doc, json_path)
