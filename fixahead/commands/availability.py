"""`fixahead availability predict`: the availability model's view of one household's events."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

availability_app = typer.Typer(help="Predicted availability (P(home) per hour of week).",
                               no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `fixahead availability` to the root app."""
    app.add_typer(availability_app, name="availability")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@availability_app.command("predict")
def predict_cmd(
    at: Annotated[str, typer.Option("--at", help="The instant to predict at (ISO 8601 with a "
                                    "zone, or epoch seconds); later events are ignored")],
    tz: Annotated[str, typer.Option("--tz", help="The household's IANA time zone, e.g. "
                                    "Europe/Berlin")],
) -> None:
    """Read events (CSV with a `timestamp` column) on stdin; write `hour_of_week,p_home`."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from dispatch.availability import predict
    from dispatch.availability_csv import format_p_home, parse_events, parse_instant

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        _fail(f"--tz: unknown time zone {tz!r} (use an IANA name like Europe/Berlin)")
    try:
        now = parse_instant(at, "--at")
    except ValueError as exc:
        _fail(str(exc))
    try:
        events = parse_events(sys.stdin.read())
    except ValueError as exc:
        _fail(f"stdin {exc}")
    except UnicodeDecodeError:
        _fail("stdin: not UTF-8 text")
    a = predict(events, tz=tz, now=now, consent=True)
    sys.stdout.write(format_p_home(a.p_home))
