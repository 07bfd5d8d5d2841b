"""`fixahead` commands for the rules area."""

from __future__ import annotations

import sys

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("detect")(detect)


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
