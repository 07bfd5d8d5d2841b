"""`fixahead diagnostics ...`: ask a device for a snapshot or a self-test, show the answers,
and run the link that publishes the commands and receives the replies."""

from __future__ import annotations

import contextlib
import getpass
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from fixahead.commands import connection as _conn

diagnostics_app = typer.Typer(help="Remote diagnostics over MQTT.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(diagnostics_app, name="diagnostics")


def _doc(req: Any) -> dict[str, Any]:
    from dataclasses import asdict

    doc = asdict(req)
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in doc.items()}


@diagnostics_app.command("request")
def request(
    device_id: Annotated[str, typer.Argument(help="The device to ask")],
    kind: Annotated[str, typer.Option(help="diagnostics_snapshot or self_test")]
    = "diagnostics_snapshot",
    ttl: Annotated[int, typer.Option(help="Seconds until the request expires")] = 1800,
    incident: Annotated[str | None, typer.Option(help="Link to this incident")] = None,
    visit: Annotated[int | None, typer.Option(help="Link to this visit (job)")] = None,
    wait: Annotated[float, typer.Option(help="Wait up to S seconds for the answer")] = 0.0,
) -> None:
    """Queue a diagnostics request (audited as the operator); the link sends it once the
    device is online. Prints the request as JSON."""
    from devices import diagnostics_store as store
    from devices.commands import CommandKind
    from dispatch.appointments import incident_of

    if kind not in tuple(CommandKind):
        raise typer.BadParameter(f"kind must be one of {', '.join(CommandKind)}")
    with _conn() as conn:
        if incident is None and visit is not None:
            incident = incident_of(conn, visit)  # a job's request names its incident
        try:
            req = store.create_request(conn, device_id=device_id, kind=kind,
                                       now=datetime.now(UTC), ttl=timedelta(seconds=ttl),
                                       actor=f"cli:{getpass.getuser()}", incident_id=incident,
                                       visit_id=visit)
        except store.UnknownDevice as exc:
            typer.echo(f"fixahead diagnostics: {exc}", err=True)
            raise typer.Exit(1) from None
        deadline = time.monotonic() + wait
        while wait > 0 and req.open and time.monotonic() < deadline:
            time.sleep(0.5)
            req = store.load_request(conn, req.request_id) or req
    typer.echo(json.dumps(_doc(req), indent=2))


@diagnostics_app.command("show")
def show(
    device_id: Annotated[str | None, typer.Argument(help="The device")] = None,
    incident: Annotated[str | None, typer.Option(help="Requests of this incident")] = None,
    visit: Annotated[int | None, typer.Option(help="Requests of this visit")] = None,
) -> None:
    """Requests of a device, an incident or a visit (newest first), and refused replies."""
    from devices import diagnostics_store as store
    from devices.diagnostics import waiting_reason

    if device_id is None and incident is None and visit is None:
        raise typer.BadParameter("give a device, --incident or --visit")
    with _conn() as conn:
        for req in store.requests_for(conn, device_id=device_id, incident_id=incident,
                                      visit_id=visit):
            online = store.device_online(conn, req.device_id)
            typer.echo(f"{req.created_at:%Y-%m-%d %H:%M:%S} {req.request_id} {req.device_id} "
                       f"{req.kind.value:21} {req.state.value:12} "
                       f"{waiting_reason(req, online=online)}")
            if req.result is not None:
                typer.echo("    " + json.dumps(req.result))
        if device_id is not None:
            for r in store.refusals(conn, device_id):
                typer.echo(f"refused {r['at']:%Y-%m-%d %H:%M:%S} {r['request_id']} "
                           f"{r['reason']}: {r['detail']}")


@diagnostics_app.command("link")
def link(
    mqtt_url: Annotated[str | None, typer.Option(
        help="mqtt://fixahead.platform:PASSWORD@host:port (default: FIXAHEAD_MQTT_URL)")]
    = None,
    poll: Annotated[float, typer.Option(help="Seconds between sweeps")] = 1.0,
) -> None:
    """Publish pending requests to online devices, expire old ones, store replies."""
    import asyncio

    import psycopg

    from devices.diagnostics_mqtt import DiagnosticsLink
    from fixahead.commands.common import load_cli_settings
    from fixahead.services import database, prepare_database

    settings = load_cli_settings()
    url = mqtt_url or settings.mqtt_url
    if not url:
        raise typer.BadParameter("give --mqtt-url (the platform account) or FIXAHEAD_MQTT_URL")
    with database(settings) as db_url:
        prepare_database(db_url)
        runner = DiagnosticsLink.from_url(lambda: psycopg.connect(db_url, autocommit=True),
                                          url, prefix=settings.topic_prefix, poll_s=poll,
                                          listen_url=db_url)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(runner.run())
