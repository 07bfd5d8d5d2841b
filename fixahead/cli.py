"""The `fixahead` command line."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from fixahead.logs import setup_logging
from fixahead.settings import Settings, load_settings

app = typer.Typer(help="Fixahead: proactive service for connected appliances.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
run_app = typer.Typer(help="Run one role of the platform.", no_args_is_help=True)
devices_app = typer.Typer(help="Device registry.", no_args_is_help=True)
broker_app = typer.Typer(help="MQTT broker configuration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(run_app, name="run")
app.add_typer(devices_app, name="devices")
app.add_typer(broker_app, name="broker")

log = logging.getLogger("fixahead")


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    setup_logging(settings.log_level, settings.log_json)
    return settings


def _stop_event() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (idempotent) and load the appliance catalog."""
    from fixahead.services import database, prepare_database

    settings = _settings()
    with database(settings) as url:
        prepare_database(url)
    typer.echo("database is up to date")


@run_app.command("ingest")
def run_ingest() -> None:
    """Run an ingest worker until SIGINT/SIGTERM."""
    from fixahead.services import platform
    from fixahead.wiring import ingest_config
    from ingest.metrics import IngestMetrics
    from ingest.worker import IngestWorker

    settings = _settings()
    stop = _stop_event()
    with platform(settings) as ends:
        metrics = IngestMetrics()
        if settings.metrics_port:
            from prometheus_client import start_http_server

            start_http_server(settings.metrics_port, registry=metrics.registry)
        worker = IngestWorker(ingest_config(settings, ends.database_url, ends.mqtt_url),
                              metrics=metrics)
        log.info("ingest worker %s on %s", settings.ingest_client_id, ends.mqtt_url)
        worker.run(stop)


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


@broker_app.command("config")
def broker_config(
    out: Annotated[Path, typer.Option(help="Directory to write mosquitto.conf into")],
    port: int = 1883,
) -> None:
    """Write a Mosquitto config that keeps every queued message (no silent drops)."""
    from fixahead.mosquitto import write_config

    path = write_config(out, port=port)
    typer.echo(f"wrote {path}")


@app.command("bench")
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark: ingest")],
    json_path: Annotated[Path, typer.Option("--json", help="Write the result here")],
    seconds: Annotated[float, typer.Option(help="Measured seconds per phase")] = 10.0,
) -> None:
    """Run a benchmark against real services and write its JSON result."""
    settings = _settings()
    if name == "ingest":
        from fixahead.bench.ingest import run as run_bench
    else:
        raise typer.BadParameter(f"unknown benchmark {name!r}; known: ingest", param_hint="NAME")
    result = run_bench(settings, seconds=seconds)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2))
    typer.echo(json.dumps(result, indent=2))


@app.command("up")
def up(
    for_seconds: Annotated[float | None, typer.Option("--for", help="Stop after this long")]
    = None,
) -> None:
    """Run the platform on embedded defaults (or the configured services) until Ctrl-C."""
    from fixahead.services import platform
    from fixahead.wiring import ingest_config
    from ingest.worker import IngestWorker

    settings = _settings()
    stop = _stop_event()
    if for_seconds is not None:
        threading.Timer(for_seconds, stop.set).start()
    with platform(settings) as ends:
        typer.echo(f"database  {ends.database_url}\nbroker    {ends.mqtt_url}\n"
                   "devices publish to fixahead/v1/<device_id>/telemetry (see docs/protocol.md)")
        worker = IngestWorker(ingest_config(settings, ends.database_url, ends.mqtt_url))
        worker.run(stop)
        typer.echo(f"stored {int(worker.metrics.stored_rows._value.get())} readings")


def main() -> None:
    """Console entry point."""
    app()
