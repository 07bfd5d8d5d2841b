"""`fixahead evaluate`: score a simulated run against its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from fixahead.lab.trouble import TroubleSpec
    from fixahead.settings import Settings


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
    seeds: Annotated[int, typer.Option(
        help="Run this many scenarios (seeds S, S+1, ...) and report the worst beside the "
             "median")] = 1,
    ingest_outage: Annotated[float, typer.Option(
        "--ingest-outage", help="Inject an ingest outage of this many simulated minutes "
        "halfway through (the broker keeps the backlog)")] = 0.0,
    broker_restart: Annotated[bool, typer.Option(
        "--broker-restart", help="Inject a broker restart that loses the messages of "
        "--broker-restart-minutes, at 70 % of the window")] = False,
    broker_restart_minutes: Annotated[float, typer.Option(
        help="Simulated minutes of messages a broker restart loses")] = 10.0,
    slow_db_ms: Annotated[float, typer.Option(
        "--slow-db-ms", help="Inject a slow database: each ingest commit waits this long")] = 0.0,
    paired: Annotated[bool, typer.Option(
        "--paired", help="Also run each seed without trouble (or reuse that run, in "
        "data_dir/reference) and report what only the run with trouble has: incidents and "
        "customer emails our trouble caused")] = False,
    paired_tolerance_min: Annotated[float, typer.Option(
        help="Paired: incidents of one device and code opened this many minutes apart are "
             "the same")] = 60.0,
) -> None:
    """Compare what the platform did (incidents, emails, visits) with a run's ground truth."""
    from fixahead.commands.common import load_cli_settings
    from fixahead.lab.evaluation.evaluate import resolve_run

    if (run is None) == (households is None):
        raise typer.BadParameter("give either --run ID or --households N [--days D --seed S]")
    if paired and households is None:
        raise typer.BadParameter("--paired runs new scenarios: give --households N",
                                 param_hint="--paired")
    if paired_tolerance_min < 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--paired-tolerance-min")
    settings = load_cli_settings()
    if run is not None:
        try:
            run_dir = resolve_run(run, settings.data_dir)
        except FileNotFoundError as exc:
            raise typer.BadParameter(str(exc), param_hint="--run") from None
        runs: list[tuple[Path, Path, Path | None]] = [(run_dir, json_path, None)]
    else:
        from fixahead.lab.trouble import TroubleSpec

        assert households is not None
        spec = TroubleSpec(ingest_outage_min=ingest_outage,
                           broker_restart_min=broker_restart_minutes if broker_restart else 0.0,
                           slow_db_ms=slow_db_ms)
        runs = _play(settings, spec, households=households, days=days, seeds=range(
            seed, seed + max(1, seeds)), end_ms=_end_ms(end), json_path=json_path,
            paired=paired)
    docs = _score(settings, runs, grace_days=grace_days,
                  tolerance_ms=int(paired_tolerance_min * 60_000))
    if len(docs) > 1:
        import json

        from fixahead.lab.evaluation.storms import across_seeds

        summary = across_seeds(docs)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"seeds": summary, "runs": [str(p) for _, p, _ in runs]},
                                        indent=2) + "\n")
        for name, v in summary.items():
            if isinstance(v, dict):
                typer.echo(f"{name}: median {v['median']}, worst {v['worst']}")
        typer.echo(f"wrote {json_path}")


def _play(settings: Settings, spec: TroubleSpec, *, households: int, days: float,
          seeds: range, end_ms: int | None, json_path: Path, paired: bool
          ) -> list[tuple[Path, Path, Path | None]]:
    """Run each seed's scenario (and, paired, its reference); (run dir, JSON, reference)."""
    from fixahead.lab.reference import ensure_database, reference_settings
    from fixahead.lab.scenario import run_scenario, scenario_dir

    ref_settings = reference_settings(settings) if paired else None
    runs = []
    for s in seeds:
        path = json_path if len(seeds) <= 1 else json_path.with_stem(f"{json_path.stem}-s{s}")
        run_dir = run_scenario(settings, households=households, days=days, seed=s,
                               end_ms=end_ms, trouble=spec)
        ref_dir = None
        if ref_settings is not None:
            ref_dir = scenario_dir(ref_settings, days=days, seed=s, end_ms=end_ms)
            if (ref_dir / "trouble.json").exists():  # written once the run has published
                typer.echo(f"reusing the reference run {ref_dir}")
            else:
                if ref_settings.database_url:
                    ensure_database(ref_settings.database_url)
                ref_dir = run_scenario(ref_settings, households=households, days=days, seed=s,
                                       end_ms=end_ms)
        runs.append((run_dir, path, ref_dir))
    return runs


def _score(settings: Settings, runs: list[tuple[Path, Path, Path | None]], *,
           grace_days: float, tolerance_ms: int) -> list[dict[str, Any]]:
    """Score every run (against its reference when it has one); echo each."""
    import contextlib

    from fixahead.lab.evaluation.evaluate import evaluate_paired, evaluate_run
    from fixahead.lab.reference import reference_settings
    from fixahead.services import database, prepare_database

    docs = []
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(database(settings))
        prepare_database(url)
        ref_url = None
        if any(ref is not None for _, _, ref in runs):
            ref_url = stack.enter_context(database(reference_settings(settings)))
            prepare_database(ref_url)
        for run_dir, path, ref_dir in runs:
            if ref_dir is not None and ref_url is not None:
                doc, written = evaluate_paired(url, run_dir, path, ref_url, ref_dir,
                                               grace_days=grace_days, tolerance_ms=tolerance_ms)
            else:
                doc, written = evaluate_run(url, run_dir, path, grace_days=grace_days)
            docs.append(doc)
            _echo(doc, written)
    return docs


def _echo(doc: dict, written: list) -> None:  # type: ignore[type-arg]
    d, p = doc["detection"], doc["dispatch"]
    r = doc.get("robustness", {})
    typer.echo(f"recall before failure {d['recall_before_failure']}, median lead "
               f"{d['median_lead_days']} d, false alarms/1000 device-days "
               f"{d['false_alarms_per_1000_device_days']}, home rate {p['home_rate']} "
               f"(first free {p['home_rate_baseline']}); largest burst of one code in 10 min "
               f"{r.get('max_burst_10min')} ({r.get('max_burst_code')}), emails in trouble "
               f"windows {r.get('emails_in_trouble_window')}")
    pd = doc.get("paired")
    if pd:
        typer.echo(f"paired with the run without trouble (false alarms/1000 device-days "
                   f"{pd['reference_false_alarms_per_1000_device_days']}): incidents only with "
                   f"trouble {pd['incidents_only_with_trouble']}, false alarms caused "
                   f"{pd['false_alarms_caused']} {pd['details']['caused']}, customer emails "
                   f"caused {pd['emails_caused']}, detections lost "
                   f"{pd['incidents_only_in_reference']}")
    for path in written:
        typer.echo(f"wrote {path}")
