"""`fixahead storms`: fleet incidents and held emails; an operator's release."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

storms_app = typer.Typer(help="Fleet incidents (storms) and emails held by the storm guard")


def register(app: typer.Typer) -> None:
    """Add `fixahead storms` to the root app."""
    app.add_typer(storms_app, name="storms")


@storms_app.command("list")
def list_storms() -> None:
    """Holds by state (settling, storm, capped, dispatched, dropped) and fleet incidents."""
    import psycopg

    from dispatch.hold import summary
    from fixahead.commands.common import load_cli_settings
    from fixahead.services import database, prepare_database

    with database(load_cli_settings()) as url:
        prepare_database(url)
        with psycopg.connect(url, autocommit=True) as conn:
            typer.echo(json.dumps(summary(conn), indent=1))


@storms_app.command("release")
def release(key: Annotated[str, typer.Argument(help="The fleet incident's key")]) -> None:
    """Release a fleet incident's held emails: still-open incidents are dispatched (within
    the hourly cap), closed ones dropped."""
    import psycopg

    from fixahead.commands.common import load_cli_settings
    from fixahead.roles import dispatch_config, storm_config
    from fixahead.services import database, prepare_database
    from fixahead.storms import release_storm

    settings = load_cli_settings()
    with database(settings) as url:
        prepare_database(url)
        with psycopg.connect(url, autocommit=True) as conn:
            n = release_storm(conn, key, storm_config(settings), datetime.now(UTC),
                              dispatch_config(settings))
    typer.echo(f"released {key}: {n} dispatched")
