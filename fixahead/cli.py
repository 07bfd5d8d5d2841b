"""The `fixahead` command line."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Annotated

import typer

from fixahead.commands.common import load_cli_settings, stop_event
from fixahead.settings import Settings

app = typer.Typer(help="Fixahead: proactive service for connected appliances.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
run_app = typer.Typer(help="Run one role of the platform.", no_args_is_help=True)
broker_app = typer.Typer(help="MQTT broker configuration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(run_app, name="run")
app.add_typer(broker_app, name="broker")

log = logging.getLogger("fixahead")

# each is a module fixahead/lab/bench/NAME.py with `run(settings, *, quick) -> dict`
BENCHMARKS = (
    "ingest", "rules", "dispatch", "web", "simulate", "incidents", "availability", "detect", "rul",
    "homes",
)
# these read a public data set from --data DIR and take `data` too
DATA_BENCHMARKS = ("detect", "rul", "homes")


def _serve_health(settings: Settings, role: str, registry: object, ready: object) -> None:
    """/healthz, /readyz and /metrics on the role's port (FIXAHEAD_METRICS_PORT plus the
    role's offset), when FIXAHEAD_METRICS_PORT is set."""
    if settings.metrics_port:
        from fixahead.health import role_port, serve

        port = role_port(settings.metrics_port, role)
        try:
            serve(port, registry, ready)  # type: ignore[arg-type]
        except OSError as exc:
            raise typer.BadParameter(
                f"{role}: metrics port {port} (FIXAHEAD_METRICS_PORT {settings.metrics_port} + "
                f"the {role} offset) is not available: {exc.strerror}") from None
        log.info("%s: health and metrics on http://0.0.0.0:%d/metrics", role, port)


def _timer(seconds: float, stop: threading.Event) -> None:
    """Set `stop` after `seconds` (a daemon timer: it never keeps the process alive)."""
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (idempotent) and load the appliance catalog."""
    from fixahead.services import database, prepare_database

    settings = load_cli_settings()
    with database(settings) as url:
        prepare_database(url)
    typer.echo("database is up to date")


@run_app.command("ingest")
def run_ingest() -> None:
    """Run an ingest worker until SIGINT/SIGTERM."""
    from fixahead.health import database_ready
    from fixahead.listening import ingest_judge, record_while
    from fixahead.services import platform
    from fixahead.wiring import ingest_config
    from ingest.metrics import IngestMetrics
    from ingest.mqttclient import MQTT311
    from ingest.worker import IngestWorker

    settings = load_cli_settings()
    stop = stop_event()
    with platform(settings) as ends:
        metrics = IngestMetrics()
        config = ingest_config(settings, ends.database_url, ends.mqtt_url,
                               protocol=MQTT311 if ends.embedded_broker else None)
        worker = IngestWorker(config, metrics=metrics)
        db_ready = database_ready(ends.database_url)
        _serve_health(settings, "ingest", metrics.registry,
                      lambda: worker.ready.is_set() and worker.connected and db_ready())
        log.info("ingest worker %s on %s", settings.ingest_client_id, ends.display_mqtt_url)
        threading.Thread(target=record_while, args=(
            ends.database_url, stop, f"ingest:{settings.ingest_client_id}",
            ingest_judge(worker)), name="listening", daemon=True).start()
        worker.run(stop)


@broker_app.command("config")
def broker_config(
    out: Annotated[Path, typer.Option(help="Directory for mosquitto.conf and its files")],
    port: Annotated[int | None, typer.Option(help="Listener port (default: the one already "
                                             "in OUT/mosquitto.conf, else 1883)")] = None,
    bind: Annotated[str, typer.Option(help="Listen address")] = "127.0.0.1",
) -> None:
    """Write a Mosquitto config that keeps every queued message, with the dynamic security
    plugin's accounts from the registry (each device only its own client id and topics)."""
    import psycopg

    from fixahead.broker_auth import write_broker_files
    from fixahead.mosquitto import configured_port
    from fixahead.services import database, prepare_database

    port = port or configured_port(out) or 1883

    settings = load_cli_settings()
    with database(settings) as url:
        prepare_database(url)
        with psycopg.connect(url, autocommit=True) as conn:
            path = write_broker_files(conn, out, port, prefix=settings.topic_prefix, bind=bind)
    typer.echo(f"wrote {path} (service account passwords in {out}/service-accounts.json)")
    _say_audit(path)


def _say_audit(conf: Path) -> None:
    from fixahead.brokeraudit import loaded_in, missing_tools

    plugin = loaded_in(conf)
    if plugin is not None:
        typer.echo(f"devices' refused requests are reported by {plugin} (docs/operations.md)")
    else:
        typer.echo(f"without the audit plugin ({missing_tools() or 'see the log'}): devices' "
                   "refused requests are not reported", err=True)


@run_app.command("rules")
def run_rules_role() -> None:
    """Run a rules worker: the ingest feed through the rule engine into incidents."""
    from fixahead.health import database_ready
    from fixahead.roles import RoleMetrics, run_rules
    from fixahead.services import database, prepare_database

    settings = load_cli_settings()
    stop = stop_event()
    metrics = RoleMetrics("rules")
    with database(settings) as url:
        prepare_database(url)
        _serve_health(settings, "rules", metrics.registry, database_ready(url))
        run_rules(url, stop, partitions=settings.rules_partitions, metrics=metrics,
                  generic=settings.rules_generic_detector)


@run_app.command("dispatch")
def run_dispatch_role() -> None:
    """Run a dispatch worker: incidents to decisions and emails, the outbox, the jobs."""
    from devices.diagnostics_mqtt import serve as serve_diagnostics
    from fixahead.health import database_ready
    from fixahead.mail import mail
    from fixahead.pipeline import diagnostics_link
    from fixahead.roles import (
        IncidentFollower,
        RoleMetrics,
        dispatch_config,
        run_dispatch,
        storm_config,
    )
    from fixahead.services import Endpoints, database, prepare_database

    settings = load_cli_settings()
    stop = stop_event()
    metrics = RoleMetrics("dispatch")
    with database(settings) as url, mail(settings) as (smtp, email, _sink):
        prepare_database(url)
        _serve_health(settings, "dispatch", metrics.registry, database_ready(url))
        if settings.mqtt_url:  # remote diagnostics need the broker (as the platform account)
            link = diagnostics_link(Endpoints(url, settings.mqtt_url, settings.mqtt_url),
                                    settings.topic_prefix)
            threading.Thread(target=serve_diagnostics, args=(link, stop), daemon=True).start()
        run_dispatch(url, stop, smtp=smtp, email=email, metrics=metrics,
                     follower=IncidentFollower(storms=storm_config(settings),
                                               config=dispatch_config(settings)))


@run_app.command("web")
def run_web_role() -> None:
    """Serve the dispatch board, the REST API and the customer pages."""
    import uvicorn

    from fixahead.commands.web import build_web_app
    from fixahead.health import database_ready
    from fixahead.mail import link_secret
    from fixahead.services import database, prepare_database
    from fixahead.webserver import freeze_startup_objects

    settings = load_cli_settings()
    with database(settings) as url:
        prepare_database(url)
        app = build_web_app(settings, url, link_secret=link_secret(settings))
        # the same /healthz, /readyz and /metrics the app serves, on the web role's own port
        _serve_health(settings, "web", app.state.metrics_registry, database_ready(url))
        freeze_startup_objects()  # full collections no longer walk the imports: board p99
        uvicorn.run(app, host=settings.web_host, port=settings.web_port,
                    log_level=settings.log_level.lower())


@app.command("bench")
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark: all, " + ", ".join(BENCHMARKS))],
    json_path: Annotated[Path, typer.Option("--json", help="Write the result here")],
    quick: Annotated[bool, typer.Option(help="A short run, for smoke tests")] = False,
    data: Annotated[Path | None, typer.Option("--data", help="Data set folder (detect: SKAB, "
                                              "rul: C-MAPSS, homes: the UCI ADL homes)")] = None,
) -> None:
    """Run a benchmark against real services and write its JSON result."""
    import importlib

    settings = load_cli_settings()
    if name != "all" and name not in BENCHMARKS:
        raise typer.BadParameter(f"unknown benchmark {name!r}; known: all, "
                                 f"{', '.join(BENCHMARKS)}", param_hint="NAME")
    if name == "all":
        results = {}
        for each in (b for b in BENCHMARKS if b not in DATA_BENCHMARKS):
            typer.echo(f"bench {each} ...", err=True)
            results[each] = importlib.import_module(f"fixahead.lab.bench.{each}").run(
                settings, quick=quick)
        result = {"bench": "all", "results": results}
    elif name in DATA_BENCHMARKS:
        if data is None:
            raise typer.BadParameter(f"bench {name} needs --data DIR", param_hint="--data")
        try:
            result = importlib.import_module(f"fixahead.lab.bench.{name}").run(
                settings, quick=quick, data=data)
        except (FileNotFoundError, ValueError) as exc:
            typer.echo(f"fixahead bench {name}: {exc}", err=True)
            raise typer.Exit(2) from None
    else:
        result = importlib.import_module(f"fixahead.lab.bench.{name}").run(settings, quick=quick)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2))
    typer.echo(json.dumps(result, indent=2))


@app.command("up")
def up(
    for_seconds: Annotated[float | None, typer.Option("--for", help="Stop after this long")]
    = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the summary here")]
    = None,
    households: Annotated[int, typer.Option(help="Demo fleet size (0: no simulated fleet)")]
    = 40,
    days: Annotated[float, typer.Option(help="Simulated days of fleet life")] = 14.0,
    seed: Annotated[int, typer.Option(help="Demo fleet seed")] = 1,
    fresh: Annotated[bool, typer.Option(help="Start over: delete the embedded services' data "
                                        "and earlier demos first")] = False,
) -> None:
    """Run everything on embedded defaults (or the configured services) with a demo fleet.

    A second run continues the first one's demo (no new fleet on top of it); `--fresh`
    starts from an empty platform."""
    import time

    from fixahead.commands.web import build_web_app
    from fixahead.fresh import earlier_demos, start_fresh
    from fixahead.lab.scenario import (
        ScenarioSpec,
        drain_and_refresh,
        provision,
        publish,
        run_in_background,
        summary,
    )
    from fixahead.lab.trouble import SimClock
    from fixahead.mail import link_secret, mail
    from fixahead.pipeline import Pipeline
    from fixahead.services import platform
    from fixahead.webserver import WebThread, demo_login
    from simulator.timebase import max_past_age_s, window_ending_now

    settings = load_cli_settings()
    if fresh:
        try:
            removed = start_fresh(settings)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--fresh") from None
        typer.echo(f"--fresh: removed {len(removed)} item(s) from {settings.data_dir}")
    earlier = earlier_demos(settings.data_dir)
    if earlier and households > 0:
        typer.echo(f"continuing the demo of an earlier run ({earlier[-1].name} in "
                   f"{earlier[-1].parent}); no new fleet is added. Pass --fresh to start over.")
        households = 0
    stop = stop_event()
    if for_seconds is not None:
        _timer(for_seconds, stop)
    spec = ScenarioSpec(households, days, seed, speed=0.0, fault_rate=4.0)
    window = window_ending_now(days, 0.0, int(time.time() * 1000))
    settings = settings.model_copy(update={"max_past_age_s": max(
        settings.max_past_age_s, max_past_age_s(window, 0.0))})
    # the replayed window's own clock (how far the fleet has published) is the trusted one
    clock = SimClock(window.start_ms)
    with platform(settings) as ends, mail(settings) as (smtp, email, sink):
        pipeline = Pipeline(settings, ends, smtp=smtp, email=email, trusted_ms=clock.now_ms,
                            trouble=lambda: (clock.now_ms(), False))
        pipeline.start()
        app = build_web_app(settings, ends.database_url, link_secret=link_secret(settings),
                            sink=sink.handler if sink is not None else None)
        web = WebThread(app, settings.web_host, settings.web_port).start()
        worker = pipeline.worker
        _serve_health(settings, "up", worker.metrics.registry,
                      lambda: worker.ready.is_set() and worker.connected)
        login, password = demo_login(ends.database_url, settings.data_dir)
        typer.echo(_where(settings, ends, smtp, login, password))
        if households > 0:
            out = settings.data_dir / "simulations" / f"demo-s{seed}-{window.start_ms}"

            def demo() -> None:
                _fleet, secrets = provision(ends, settings, spec, window)
                # up to 200 appliances answer remote diagnostics, each on its own connection
                publish(ends, settings, spec, window, out,
                        on_progress=lambda p: clock.advance(p.sim_ms),
                        answering=secrets if len(secrets) <= 200 else None, stop=stop,
                        after=drain_and_refresh(pipeline, ends.database_url, window.start_ms))

            run_in_background(demo)
            typer.echo(f"demo fleet: {households} households, {days:g} simulated days "
                       f"(ground truth in {out})")
        started = time.monotonic()
        try:
            while not stop.wait(5.0):
                figures = summary(ends.database_url, _stored(pipeline))
                typer.echo(f"[{time.monotonic() - started:5.0f}s] " + ", ".join(
                    f"{k.replace('_', ' ')} {v}" for k, v in figures.items()))
        finally:
            pipeline.stop()
            web.stop()
        figures = summary(ends.database_url, _stored(pipeline))
    typer.echo("summary: " + json.dumps(figures))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2))


def _where(settings: Settings, ends: object, smtp: object, login: str, password: str) -> str:
    """Where each service of `up` is, one line each."""
    from fixahead.health import role_port

    db = ends.database_url.rsplit("@", 1)[-1]  # type: ignore[attr-defined]
    lines = [f"database  postgresql://{db}" + ("" if settings.database_url else
                                                f"  (embedded, data in {settings.data_dir})"),
             f"broker    {ends.display_mqtt_url}"  # type: ignore[attr-defined]
             + ("" if settings.mqtt_url else "  (embedded)"),
             f"smtp      {smtp.host}:{smtp.port}",  # type: ignore[attr-defined]
             f"web       http://{settings.web_host}:{settings.web_port}/  "
             f"(sign in as {login} / {password})"]
    if settings.metrics_port:
        lines.append(f"metrics   http://127.0.0.1:{role_port(settings.metrics_port, 'up')}"
                     "/metrics")
    return "\n".join(lines)


def _stored(pipeline: object) -> int:
    registry = pipeline.worker.metrics.registry  # type: ignore[attr-defined]
    return int(registry.get_sample_value("fixahead_ingest_stored_messages_total") or 0)


def _register_areas() -> None:
    from fixahead.commands import (
        availability,
        devices,
        diagnostics,
        dispatch,
        evaluation,
        rules,
        simulation,
        storage,
        storms,
        web,
    )

    for area in (devices, rules, simulation, dispatch, web, evaluation, diagnostics,
                 availability, storms, storage):
        area.register(app)


def main() -> None:
    """Console entry point."""
    from fixahead.ports import PortTaken

    _register_areas()
    try:
        app()
    except PortTaken as exc:  # a port that was asked for is taken: say so, no traceback
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
