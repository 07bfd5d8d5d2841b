"""Score one run end to end: ground truth + database -> JSON + Markdown report (use case)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from fixahead.lab.evaluation.paired import HOUR_MS, paired
from fixahead.lab.evaluation.records import load_records, stored_devices
from fixahead.lab.evaluation.report import write_report
from fixahead.lab.evaluation.score import score
from fixahead.lab.evaluation.storms import robustness
from fixahead.lab.evaluation.types import Records
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
    doc, _ = score_run(database_url, run_dir, grace_days=grace_days)
    return doc, write_report(doc, json_path)


def reference_path(json_path: Path) -> Path:
    """Where a paired evaluation writes its reference run's JSON (beside the run's)."""
    return json_path.with_stem(f"{json_path.stem}-ref")


def evaluate_paired(database_url: str, run_dir: Path, json_path: Path, reference_url: str,
                    reference_dir: Path, *, grace_days: float = 1.0,
                    tolerance_ms: int = HOUR_MS) -> tuple[dict[str, Any], list[Path]]:
    """Score a run with trouble and its reference run (same scenario, no trouble, its own
    database); the run's JSON gains `paired`: what only the run with trouble has."""
    if run_dir.name != reference_dir.name:  # s<seed>-<window start>
        raise ValueError(f"the reference run {reference_dir} is not the scenario of "
                         f"{run_dir} (another seed or window)")
    ref_doc, ref = score_run(reference_url, reference_dir, grace_days=grace_days, stored=True)
    written = write_report(ref_doc, reference_path(json_path))
    doc, records = score_run(database_url, run_dir, grace_days=grace_days)
    doc["paired"] = {
        **paired(records.incidents, records.emails, ref.incidents,
                 doc["details"]["false_alarms"], tolerance_ms=tolerance_ms),
        "reference_run_dir": str(reference_dir),
        "reference_false_alarms_per_1000_device_days":
            ref_doc["detection"]["false_alarms_per_1000_device_days"]}
    return doc, write_report(doc, json_path) + written


def score_run(database_url: str, run_dir: Path, *, grace_days: float = 1.0,
              stored: bool = False) -> tuple[dict[str, Any], Records]:
    """The scored document of the run in `run_dir` and the records it was scored on;
    `stored`: refuse a database that does not hold the run's devices."""
    truth = read_ground_truth(run_dir)
    injected = run_dir / "trouble.json"
    trouble: Sequence[tuple[str, int, int]] = [
        (k, int(a), int(b)) for k, a, b in json.loads(injected.read_text())["windows"]
    ] if injected.exists() else []
    with psycopg.connect(database_url, autocommit=True) as conn:
        if stored and not stored_devices(conn, [d["device_id"] for d in truth["devices"]]):
            raise ValueError(f"the database holds none of the devices of {run_dir}: was the "
                             "run played into another one?")
        records = load_records(conn, truth, grace_days=grace_days)
    doc = score(truth, records, grace_days=grace_days)
    doc["robustness"] = robustness(truth, records, doc["details"]["false_alarms"], trouble,
                                   grace_ms=int(grace_days * 86_400_000))
    doc["config"]["run_dir"] = str(run_dir)
    return doc, records
