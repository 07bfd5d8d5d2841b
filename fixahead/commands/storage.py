"""`fixahead db jobs` and `fixahead db refresh-rollup`: TimescaleDB's jobs for operators."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app's `db` group (made when it has none)."""
    db = next((g.typer_instance for g in app.registered_groups
               if g.name == "db" and g.typer_instance is not None), None)
    if db is None:
        db = typer.Typer(help="Database migrations and jobs.", no_args_is_help=True)
        app.add_typer(db, name="db")
    db.command("jobs")(jobs)
    db.command("refresh-rollup")(refresh_rollup_command)


def _ago(now: datetime, t: datetime | None) -> str:
    if t is None:
        return "never"
    seconds = int((now - t).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _as_dict(job: Any, now: datetime) -> dict[str, Any]:
    def iso(t: datetime | None) -> str | None:
        return None if t is None else t.isoformat()

    return {"id": job.id, "kind": job.kind, "relation": job.relation,
            "schedule_interval_s": job.schedule_interval.total_seconds(),
            "scheduled": job.scheduled, "background_status": job.background_status,
            "background_success": iso(job.background_success),
            "background_failures": job.background_failures, "platform_run": iso(job.driven_at),
            "platform_run_ok": job.driven_ok, "platform_error": job.driven_error,
            "last_success": iso(job.last_success), "due": job.due(now),
            "healthy": job.healthy(now)}


def jobs(
    run: Annotated[bool, typer.Option("--run", help="Run the due jobs now, as the dispatch "
                                      "role does every minute")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document")] = False,
) -> None:
    """TimescaleDB's compression, retention and rollup refresh jobs: last success, background
    failures, the platform's own runs, and whether each is healthy."""
    from fixahead.commands import connection
    from fixahead.storage import db_now, drive_due_jobs, list_jobs, storage_name

    with connection() as conn:
        runs = (drive_due_jobs(conn) or []) if run else []
        storage, found, now = storage_name(conn), list_jobs(conn), db_now(conn)
    if as_json:
        typer.echo(json.dumps({"storage": storage, "jobs": [_as_dict(j, now) for j in found],
                               "ran": [{"id": r.job.id, "ok": r.ok, "seconds": round(
                                   r.seconds, 3), "error": r.error} for r in runs]}, indent=2))
        return
    typer.echo(f"storage: {storage}")
    if not found:
        typer.echo("no TimescaleDB jobs (plain PostgreSQL, or a build without policies): "
                   "compression, retention and the rollup refresh do not apply")
        return
    for r in runs:
        typer.echo(f"ran job {r.job.id} ({r.job.kind}) in {r.seconds:.1f} s: "
                   + ("ok" if r.ok else f"failed: {r.error}"))
    typer.echo(f"{'job':>5} {'kind':11} {'relation':17} {'every':>9} {'background':22} "
               f"{'platform run':18} {'last success':14} health")
    for j in found:
        background = (f"{j.background_status or 'never ran'}"
                      + (f" ({j.background_failures} failed)" if j.background_failures else ""))
        platform = ("-" if j.driven_at is None
                    else f"{'ok' if j.driven_ok else 'FAILED'} {_ago(now, j.driven_at)}")
        health = ("ok" if j.healthy(now) else "UNHEALTHY") + ("" if j.scheduled else " (paused)")
        typer.echo(f"{j.id:>5} {j.kind:11} {j.relation:17} {_interval(j.schedule_interval):>9} "
                   f"{background:22} {platform:18} {_ago(now, j.last_success):14} {health}")
        if j.driven_error and not j.driven_ok:
            typer.echo(f"      last platform error: {j.driven_error}")


def _interval(d: timedelta) -> str:
    s = int(d.total_seconds())
    return f"{s // 3600} h" if s % 3600 == 0 else f"{s // 60} min"


def refresh_rollup_command(
    days: Annotated[float | None, typer.Option(
        help="Refresh the last DAYS days only (default: all of it)")] = None,
) -> None:
    """Materialize the hourly rollup after a bulk load or backfill (TimescaleDB; plain
    PostgreSQL computes it when read)."""
    import time

    from fixahead.commands import connection
    from fixahead.storage import db_now, refresh_rollup

    with connection() as conn:
        start = None if days is None else db_now(conn) - timedelta(days=days)
        began = time.monotonic()
        done = refresh_rollup(conn, start, None)
    typer.echo(f"refreshed telemetry_hourly in {time.monotonic() - began:.1f} s" if done
               else "telemetry_hourly is a view here: nothing to refresh")
