"""`fixahead devices ...`: the device registry from the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer

devices_app = typer.Typer(help="Device registry.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(devices_app, name="devices")


@devices_app.command("register")
def devices_register(
    model: Annotated[str, typer.Option(help="Model id from the catalog, e.g. WM-800")],
    device_id: Annotated[str | None, typer.Option("--id", help="Device id (default: random)")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Register a device and print its id (and secret, shown only this once)."""
    import secrets

    import psycopg

    from devices.credentials import hash_secret, new_secret
    from devices.store import register_device
    from fixahead.cli import _settings
    from fixahead.services import database, prepare_database

    settings = _settings()
    device_id = device_id or f"{model.lower()}-{secrets.token_hex(5)}"
    secret = new_secret()
    with database(settings) as url:
        prepare_database(url)
        with psycopg.connect(url, autocommit=True) as conn:
            known = conn.execute("SELECT 1 FROM models WHERE model_id = %s", (model,)).fetchone()
            if not known:
                raise typer.BadParameter(f"model {model!r} is not in the catalog",
                                         param_hint="--model")
            register_device(conn, device_id, model, secret_hash=hash_secret(secret))
    if as_json:
        typer.echo(json.dumps({"device_id": device_id, "model": model, "secret": secret}))
    else:
        typer.echo(f"device {device_id} ({model})\nsecret {secret}  (shown once)")
