"""`fixahead simulate`: run the simulated fleet against the configured broker and database."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from pathlib import Path
from typing import Annotated, Any

import typer

SPEED_HELP = "Simulated seconds per second: 1 is real time (the demo), 0 as fast as possible"


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("simulate")(simulate)


def provision(database_url: str, devices: list[tuple[str, str]]) -> dict[str, str]:
    """Register the fleet's devices with fresh secrets (re-keying ones that exist)."""
    import psycopg

    from devices.credentials import hash_secret, new_secret
    from devices.store import register_device, set_secret_hash

    secrets = {device_id: new_secret() for device_id, _ in devices}
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        for device_id, model_id in devices:
            digest = hash_secret(secrets[device_id])
            register_device(conn, device_id, model_id, secret_hash=digest)
            set_secret_hash(conn, device_id, digest)
    return secrets


def _worker(spec: Any, shard: Any, credentials: dict[str, str] | None,
            counters: Any, out: Path, run_info: dict[str, Any]) -> None:
    """A child process: plan one shard, write its ground truth, publish it paced."""
    from simulator.groundtruth import write_ground_truth
    from simulator.run import publish_scenario, scenario_for

    def report(p: Any) -> None:
        counters[0], counters[1], counters[2] = p.published, p.acked, p.sim_ms

    scenario = scenario_for(spec, shard)
    write_ground_truth(out, scenario, **run_info)
    counters[3] = 1
    if spec.url:
        publish_scenario(spec, scenario, credentials=credentials, on_progress=report)


def simulate(
    households: Annotated[int, typer.Option(help="Number of households")] = 10,
    days: Annotated[float, typer.Option(help="Simulated days (the run ends at the present)")]
    = 1.0,
    speed: Annotated[float, typer.Option(help=SPEED_HELP)] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same run")] = 1,
    out: Annotated[Path | None, typer.Option(help="Ground-truth directory")] = None,
    shard: Annotated[str, typer.Option(help="Part i/n of the households (several processes)")]
    = "0/1",
    processes: Annotated[int, typer.Option(help="Publish shards from this many processes")] = 1,
    per_device: Annotated[bool, typer.Option(
        help="Each device connects with its own credentials (else shared connections)")] = True,
    register_devices: Annotated[bool, typer.Option(
        "--register/--no-register", help="Register the devices in the database")] = True,
    connections: Annotated[int, typer.Option(help="Shared connections per process")] = 2,
    batch_s: Annotated[float | None, typer.Option(
        help="Seconds of telemetry per message (default 60 at speed <= 60, else 1800)")] = None,
    fault_rate: Annotated[float, typer.Option(help="Scale the share of faulty devices")] = 1.0,
    network_rate: Annotated[float, typer.Option(
        help="Episodes of each kind of network trouble per device and day")] = 0.01,
    tag: Annotated[str | None, typer.Option(help="Device id prefix (default s<seed>)")] = None,
    prefix: Annotated[str | None, typer.Option(
        help="Topic prefix (default: the topic_prefix setting)")] = None,
    dry_run: Annotated[bool, typer.Option(help="Plan and write ground truth only")] = False,
) -> None:
    """Publish a simulated fleet (usage, faults, network trouble) and write its ground truth."""
    from rich.console import Console

    from devices.catalog import load_catalog
    from fixahead.cli import _settings
    from simulator.plan import Shard
    from simulator.run import RunSpec
    from simulator.timebase import max_past_age_s, window_ending_now

    console = Console()
    settings = _settings()
    try:
        part = Shard.parse(shard)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--shard") from None
    window = window_ending_now(days, speed, int(time.time() * 1000))
    needed = max_past_age_s(window, speed)
    batch_s = batch_s or (60.0 if 0 < speed <= 60 else 1800.0)
    spec_args = dict(households=households, window=window, seed=seed, speed=speed,
                     prefix=prefix or settings.topic_prefix, tag=tag, fault_rate=fault_rate,
                     network_rate=network_rate,
                     batch_s=batch_s, connections=connections)
    out = out or settings.data_dir / "simulations" / f"s{seed}-{window.start_ms}"
    run_info = {"speed": speed, "days": days, "prefix": prefix or settings.topic_prefix,
                "max_past_age_s": needed}
    hint = f"ingest must accept messages {needed:.0f} s old: FIXAHEAD_MAX_PAST_AGE_S={needed:.0f}"
    style = "red" if needed > settings.max_past_age_s else "dim"
    console.print(f"[{style}]{hint} (now {settings.max_past_age_s:.0f})[/]")
    processes = max(1, processes)
    if dry_run:
        _run(console, RunSpec(url="", **spec_args), part, processes, None, out, run_info)  # type: ignore[arg-type]
        _summary(console, out)
        return
    from fixahead.services import platform
    from simulator.fleet import build_fleet

    fleet = build_fleet(households, window, seed, load_catalog(), tag)
    owned = {h.id for h in fleet.households if part.owns(h.index)}
    devices = [(d.device_id, d.model_id) for d in fleet.devices if d.household in owned]
    with platform(settings) as ends:
        if settings.mqtt_url is None:
            console.print("[yellow]no FIXAHEAD_MQTT_URL: publishing to an embedded broker that "
                          "lives only as long as this command[/]")
        secrets = None
        if register_devices:
            secrets = provision(ends.database_url, devices)
            ends.refresh_broker_accounts(settings.topic_prefix)  # the embedded broker's file
            console.print(f"registered {len(secrets)} devices (an external Mosquitto needs "
                          "its password file regenerated: fixahead broker config)")
        # without per-device credentials, publish as the platform account (the ingest account
        # may only read)
        spec = RunSpec(url=ends.platform_mqtt_url, **spec_args)  # type: ignore[arg-type]
        creds = secrets if per_device and secrets is not None else None
        if creds is not None and len(creds) > _fd_budget():
            console.print(f"[yellow]{len(creds)} device connections exceed the open-file limit; "
                          "publishing on shared connections instead[/]")
            creds = None
        result = _run(console, spec, part, processes, creds, out, run_info)
    (out / "publish.json").write_text(json.dumps(result, indent=2))
    _summary(console, out)
    console.print(f"published {result['published']} messages in {result['seconds']:.1f} s "
                  f"({result['rate']:,.0f} msg/s)")


def _fd_budget() -> int:
    """How many device connections this process can open (its open-file limit, less spare)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(0, soft - 256)


def _summary(console: Any, out: Path) -> None:
    from simulator.groundtruth import read_ground_truth

    truth = read_ground_truth(out)
    console.print(f"[bold]{len(truth['devices'])}[/] devices in {len(truth['presence'])} "
                  f"households, {len(truth['faults'])} faults, {len(truth['network'])} network "
                  f"episodes; ground truth in {out}")


def _run(console: Any, spec: Any, part: Any, processes: int,
         credentials: dict[str, str] | None, out: Path, run_info: dict[str, Any]
         ) -> dict[str, Any]:
    """Plan and publish from `processes` child processes (shards of `part`), with a display."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from simulator.plan import Shard

    ctx = mp.get_context("fork")
    shards = [Shard(part.index + i * part.count, part.count * processes)
              for i in range(processes)]
    counters = [ctx.Array("q", 4, lock=False) for _ in shards]
    procs = [ctx.Process(target=_worker, daemon=True,
                         args=(spec, s, credentials, c, out, run_info))
             for s, c in zip(shards, counters, strict=True)]
    window = spec.window
    started = time.monotonic()
    for p in procs:
        p.start()
    total_ms = window.end_ms - window.start_ms
    columns = (TextColumn("[bold]{task.fields[phase]}"), BarColumn(),
               TextColumn("{task.fields[sim]}"),
               TextColumn("{task.fields[pub]} published, {task.fields[ack]} acked"),
               TextColumn("{task.fields[rate]} msg/s"), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("run", total=total_ms, sim="", pub=0, ack=0, rate=0,
                            phase="planning")
        while any(p.is_alive() for p in procs):
            time.sleep(0.25)
            pub = sum(c[0] for c in counters)
            sim = min((c[2] for c in counters if c[2]), default=window.start_ms)
            elapsed = max(1e-9, time.monotonic() - started)
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(sim / 1000))
            phase = "publishing" if all(c[3] for c in counters) else "planning"
            bar.update(task, completed=sim - window.start_ms, sim=when, pub=pub, phase=phase,
                       ack=sum(c[1] for c in counters), rate=f"{pub / elapsed:,.0f}")
        bar.update(task, completed=total_ms)
    failed = [p.exitcode for p in procs if p.exitcode]
    if failed:
        console.print(f"[red]{len(failed)} publisher process(es) failed (exit {failed})[/]")
        raise typer.Exit(1)
    seconds = time.monotonic() - started
    published = sum(c[0] for c in counters)
    return {"published": published, "acked": sum(c[1] for c in counters), "seconds": seconds,
            "rate": published / seconds, "processes": processes}
