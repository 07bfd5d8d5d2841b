"""`fixahead` commands for the rules area."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

rules_app = typer.Typer(help="Rule packs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("detect")(detect)
    app.add_typer(rules_app, name="rules")


def detect() -> None:
    """Score a `timestamp,value` CSV on stdin; write `timestamp,anomaly_score` CSV to stdout.

    Each score is in [0, 1] and uses only the rows up to its own (a streaming detector).
    """
    from rules.detect import DetectInputError, detect_csv

    try:
        out = detect_csv(sys.stdin.read())
    except DetectInputError as exc:
        typer.echo(f"fixahead detect: {exc}", err=True)
        raise typer.Exit(2) from None
    sys.stdout.write(out)


@rules_app.command("check")
def rules_check(
    directory: Annotated[Path | None, typer.Argument(help="Pack directory (default: packaged)")]
    = None,
) -> None:
    """Load, validate and compile the rule packs against the catalog; list the rules."""
    from devices.catalog import load_catalog
    from rules.compiler import compile_rules
    from rules.loader import RuleError, load_packs

    catalog = load_catalog()
    try:
        rules = load_packs(catalog, directory)
        compiled = compile_rules(rules, catalog)
    except RuleError as exc:
        typer.echo(f"fixahead rules check: {exc}", err=True)
        raise typer.Exit(2) from None
    for r in rules:
        typer.echo(f"{r.model:8} {r.id:26} {r.fault:5} {r.meaning:12} {r.severity:8} {r.action}")
    typer.echo(f"{len(rules)} rules, {compiled.program.kind.size} predicates, "
               f"{compiled.width} state columns per device")


@rules_app.command("precision")
def rules_precision(
    days: Annotated[float | None, typer.Option(
        help="Only incidents opened in the last DAYS days (default: all)")] = None,
) -> None:
    """Each rule's precision from technicians' outcome codes: incidents, confirmed, refuted;
    beside it, how many customers answered "I fixed it" and "still broken".

    (Its precision on the simulated fleet is in `fixahead evaluate`'s report, "Rules".)
    """
    from datetime import UTC, datetime, timedelta

    from dispatch.queries import incident_outcomes
    from fixahead.commands import connection
    from rules.precision import joined, lines, per_rule
    from rules.queries import incident_sources

    since = None if days is None else datetime.now(UTC) - timedelta(days=days)
    with connection() as conn:
        rows = per_rule(joined(incident_sources(conn, since), incident_outcomes(conn)))
    for line in lines(rows):
        typer.echo(line)
