"""`fixahead evaluate`: score a simulated run against its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add `fixahead evaluate` to the root app."""
    app.command("evaluate")(evaluate)


def _end_ms(end: str | None) -> int | None:
    """Epoch ms of the UTC midnight that starts `end` (YYYY-MM-DD); None: the last one."""
    if end is None:
        return None
    from datetime import UTC, datetime

    try:
        at = datetime.strptime(end, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise typer.BadParameter(f"{end!r} is not a date like 2026-11-22", param_hint="--end"
                                 ) from None
    if at > datetime.now(UTC):
        raise typer.BadParameter(f"{end} is in the future: devices cannot report from there",
                                 param_hint="--end")
    return int(at.timestamp() * 1000)


def evaluate(
    json_path: Annotated[Path, typer.Option("--json", help="Where to write the JSON (the "
                                            "Markdown report and charts go beside it)")],
    run: Annotated[str | None, typer.Option(
        help="Score an earlier run: its directory, or its id under data_dir/simulations")] = None,
    households: Annotated[int | None, typer.Option(
        help="Run a new scenario of this many households first")] = None,
    days: Annotated[float, typer.Option(help="Simulated days of the new scenario")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed of the new scenario")] = 1,
    end: Annotated[str | None, typer.Option(
        help="UTC date (YYYY-MM-DD) whose midnight ends the new scenario's window; default: "
             "the last midnight. The same seed and end give the same scenario.")] = None,
    grace_days: Annotated[float, typer.Option(
        help="Days after a fault's end in which an incident still counts as about it")] = 1.0,
) -> None:
    """Compare what the platform did (incidents, emails, visits) with a run's ground truth."""
    from fixahead.commands.common import load_cli_settings
    from fixahead.evaluation.evaluate import evaluate_run, resolve_run
    from fixahead.services import database, prepare_database

    if (run is None) == (households is None):
        raise typer.BadParameter("give either --run ID or --households N [--days D --seed S]")
    settings = load_cli_settings()
    if run is not None:
        try:
            run_dir = resolve_run(run, settings.data_dir)
        except FileNotFoundError as exc:
            raise typer.BadParameter(str(exc), param_hint="--run") from None
    else:
        from fixahead.scenario import run_scenario

        assert households is not None
        run_dir = run_scenario(settings, households=households, days=days, seed=seed,
                               end_ms=_end_ms(end))
    with database(settings) as url:
        prepare_database(url)
        doc, written = evaluate_run(url, run_dir, json_path, grace_days=grace_days)
    d, p = doc["detection"], doc["dispatch"]
    typer.echo(f"recall before failure {d['recall_before_failure']}, median lead "
               f"{d['median_lead_days']} d, false alarms/1000 device-days "
               f"{d['false_alarms_per_1000_device_days']}, home rate {p['home_rate']} "
               f"(first free {p['home_rate_baseline']})")
    for path in written:
        typer.echo(f"wrote {path}")
