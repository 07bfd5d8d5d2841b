"""`fixahead devices ...`: models, catalogs, devices, customers, households, tokens."""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

log = logging.getLogger("fixahead.devices")

devices_app = typer.Typer(help="Device registry, customers and credentials.",
                          no_args_is_help=True)
customer_app = typer.Typer(help="Customers: add, show, consent, export, erase.",
                           no_args_is_help=True)
household_app = typer.Typer(help="Households: add, assign devices.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
devices_app.add_typer(customer_app, name="customer")
devices_app.add_typer(household_app, name="household")
devices_app.add_typer(token_app, name="token")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(devices_app, name="devices")


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@contextlib.contextmanager
def _conn() -> Iterator[Any]:
    """A connection to the configured (or embedded) database, migrated, catalog loaded."""
    import psycopg

    from devices.customerstore import Conflict, NotFound
    from fixahead.commands.common import load_cli_settings
    from fixahead.services import database, prepare_database

    with database(load_cli_settings()) as url:
        prepare_database(url)
        with psycopg.connect(url, autocommit=True) as conn:
            try:
                yield conn
            except (NotFound, Conflict, ValueError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from None


def _announce(secrets: dict[str, str]) -> None:
    """Tell a running broker at once (a revoked device: an empty secret removes it)."""
    from fixahead.commands.common import load_cli_settings
    from fixahead.services import running_control_url

    settings = load_cli_settings()
    url = running_control_url(settings)
    if url is None:
        log.info("no running broker control known (FIXAHEAD_BROKER_CONTROL_URL): the broker "
                 "learns of this when its files are written again (fixahead broker config)")
        return
    import psycopg

    from fixahead.brokercontrol import BrokerControl
    from fixahead.brokersync import announce
    from fixahead.services import database

    try:
        with database(settings) as db, psycopg.connect(db, autocommit=True) as conn, \
                BrokerControl(url) as control:
            refused = announce(conn, control, settings.topic_prefix, secrets)
    except (OSError, TimeoutError) as exc:
        log.warning("the broker could not be told (%s); a revocation still reaches it through "
                    "the platform's broker sync", exc)
        return
    if refused:
        log.warning("the broker refused %s", ", ".join(refused))


def _print(value: Any, as_json: bool) -> None:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if as_json:
        typer.echo(json.dumps(value, default=str, indent=2))
    else:
        for key, item in value.items():
            typer.echo(f"{key:20} {item}")


@devices_app.command("models")
def models_list(as_json: JsonOpt = False) -> None:
    """List the appliance models of the catalog."""
    from devices.catalog import load_catalog

    rows = [{"model": m.id, "kind": m.kind, "name": m.name, "catalog": m.catalog_version,
             "metrics": len(m.metrics), "codes": len(m.codes)} for m in load_catalog().values()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    for r in [] if as_json else rows:
        typer.echo(f"{r['model']:8} {r['kind']:13} {r['catalog']:8} {r['name']}")


@devices_app.command("catalog")
def catalog_show(
    model: Annotated[str, typer.Argument(help="Model id, e.g. WM-800")],
    firmware: Annotated[str | None, typer.Option(help="Device firmware")] = None,
    lang: Annotated[str, typer.Option(help="Language: en or de")] = "en",
    as_json: JsonOpt = False,
) -> None:
    """Show a model's error-code catalog for a firmware version, in a language."""
    from devices.catalog import load_catalog

    found = load_catalog().get(model)
    if found is None:
        raise typer.BadParameter(f"model {model!r} is not in the catalog", param_hint="MODEL")
    cat = found.catalog_for(firmware)
    codes: list[dict[str, Any]] = [{"code": c.code, "severity": c.severity, "urgent": c.urgent,
              "customer_fixable": c.customer_fixable, "title": c.text(lang).title,
              "steps": list(c.steps(lang)), "skill": c.skill, "parts": list(c.parts),
              "visit_minutes": c.visit_minutes} for c in cat.codes]
    if as_json:
        typer.echo(json.dumps({"model": model, "version": cat.version, "codes": codes}, indent=2))
        return
    typer.echo(f"{model} catalog {cat.version} (firmware {cat.firmware_min}"
               f"..{cat.firmware_max or 'any'})")
    for c in codes:
        typer.echo(f"  {c['code']:5} {c['severity']:8} {'URGENT ' if c['urgent'] else ''}"
                   f"{c['title']}")
        for n, step in enumerate(c["steps"], start=1):
            typer.echo(f"        {n}. {step}")


@devices_app.command("register")
def devices_register(
    model: Annotated[str, typer.Option(help="Model id from the catalog, e.g. WM-800")],
    device_id: Annotated[str | None, typer.Option("--id", help="Device id (default: random)")]
    = None,
    firmware: Annotated[str, typer.Option(help="Firmware version, e.g. 2.1")] = "",
    household: Annotated[str | None, typer.Option(help="Household id")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a device and print its id and its secret (shown only this once)."""
    from devices.provisioning import register as register_device

    with _conn() as conn:
        device, secret = register_device(conn, model_id=model, device_id=device_id,
                                         firmware=firmware, household_id=household,
                                         actor=_actor())
    _announce({device.device_id: secret})
    if as_json:
        typer.echo(json.dumps({"device_id": device.device_id, "model": model, "secret": secret}))
    else:
        typer.echo(f"device {device.device_id} ({model})\nsecret {secret}  (shown once)")


@devices_app.command("import")
def devices_import(
    csv_file: Annotated[Path, typer.Argument(help="CSV: device_id,model[,firmware,household_id]",
                                             exists=True, dir_okay=False)],
    secrets_out: Annotated[Path | None, typer.Option(help="Where to write the secrets "
                                                     "(default: FILE.secrets.csv, mode 600)")]
    = None,
) -> None:
    """Register every device of a CSV file, or none when any row is bad."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from devices.provisioning import import_csv

    console = Console(stderr=True)
    out = secrets_out or csv_file.with_suffix(".secrets.csv")
    try:  # opened before the import, so secrets are never lost to a file we cannot write
        secrets_fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        typer.echo(f"error: cannot create {out} for the secrets ({exc.strerror}); "
                   "move it away or pass --secrets-out", err=True)
        raise typer.Exit(1) from None
    with _conn() as conn, Progress("[progress.description]{task.description}", BarColumn(),
                                   MofNCompleteColumn(), TimeRemainingColumn(),
                                   console=console) as bar:
        task = bar.add_task("hashing secrets", total=None)
        result = import_csv(conn, csv_file.read_text(encoding="utf-8"), actor=_actor(),
                            progress=lambda done, total: bar.update(task, completed=done,
                                                                    total=total))
    if not result.ok:
        os.close(secrets_fd)
        out.unlink()
        console.print(f"[red]{len(result.errors)} bad row(s); nothing was imported:[/red]")
        for error in result.errors[:200]:
            console.print(f"  {error}")
        if len(result.errors) > 200:
            console.print(f"  ... and {len(result.errors) - 200} more")
        raise typer.Exit(1)
    with os.fdopen(secrets_fd, "w") as f:
        f.write("device_id,secret\n")
        f.writelines(f"{d},{s}\n" for d, s in result.secrets.items())
    _announce(result.secrets)
    typer.echo(f"registered {len(result.secrets)} devices; secrets (shown once) in {out}")


@devices_app.command("rotate")
def devices_rotate(device_id: str, as_json: JsonOpt = False) -> None:
    """Give a device a new secret (printed once); a running broker takes it at once."""
    from devices.provisioning import rotate

    with _conn() as conn:
        secret = rotate(conn, device_id, actor=_actor())
    _announce({device_id: secret})
    typer.echo(json.dumps({"device_id": device_id, "secret": secret}) if as_json
               else f"device {device_id}\nsecret {secret}  (shown once)")


@devices_app.command("revoke")
def devices_revoke(device_id: str) -> None:
    """Revoke a device: the broker cuts it off at once, ingest refuses its messages."""
    from devices.provisioning import revoke

    with _conn() as conn:
        revoke(conn, device_id, actor=_actor())
    _announce({device_id: ""})
    typer.echo(f"revoked {device_id}")


@devices_app.command("show")
def devices_show(device_id: str, as_json: JsonOpt = False) -> None:
    """Show a registered device (never its secret)."""
    from devices.provisioning import get_device

    with _conn() as conn:
        _print(get_device(conn, device_id), as_json)


@devices_app.command("list")
def devices_list(
    household: Annotated[str | None, typer.Option(help="Only this household")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model")] = None,
    limit: int = 100, as_json: JsonOpt = False,
) -> None:
    """List registered devices."""
    from dataclasses import asdict

    from devices.provisioning import list_devices

    with _conn() as conn:
        found = list_devices(conn, household_id=household, model_id=model, limit=limit)
    if as_json:
        typer.echo(json.dumps([asdict(d) for d in found], default=str, indent=2))
    for d in [] if as_json else found:
        typer.echo(f"{d.device_id:24} {d.model_id:8} {d.state:8} "
                   f"{'online' if d.online else '-':7} {d.household_id or ''}")


@devices_app.command("broker-files")
def broker_files(
    out: Annotated[Path, typer.Option(help="Directory for mosquitto.conf and its files")],
    port: Annotated[int | None, typer.Option(help="Listener port (default: the one already "
                                             "in OUT/mosquitto.conf, else 1883)")] = None,
    prefix: Annotated[str, typer.Option(help="Topic prefix")] = "fixahead/v1",
) -> None:
    """Write mosquitto.conf with the dynamic security plugin's file for the current registry."""
    from fixahead.broker_auth import write_broker_files
    from fixahead.mosquitto import configured_port

    with _conn() as conn:
        path = write_broker_files(conn, out, port or configured_port(out) or 1883, prefix=prefix)
    typer.echo(f"wrote {path}; service passwords in {out / 'service-accounts.json'}. Read at "
               "Mosquitto's start; later changes reach it live over its control API")
    from fixahead.brokeraudit import loaded_in

    plugin = loaded_in(path)
    typer.echo(f"devices' refused requests are reported by {plugin}" if plugin else
               "without the audit plugin: devices' refused requests are not reported "
               "(docs/operations.md)")


@customer_app.command("add")
def customer_add(
    name: Annotated[str, typer.Option()], email: Annotated[str, typer.Option()],
    language: str = "en", time_zone: str = "UTC", street: str = "", postal_code: str = "",
    city: str = "", country: str = "", lat: float | None = None, lon: float | None = None,
    customer_id: Annotated[str | None, typer.Option("--id")] = None, as_json: JsonOpt = False,
) -> None:
    """Add a customer (with a household of the same id suffix) and print it."""
    from devices.customers import Customer, Household, new_id
    from devices.customerstore import create_customer, create_household

    cid = customer_id or new_id("cus")
    with _conn() as conn:
        customer = create_customer(conn, Customer(
            cid, name, email, language, time_zone, street=street, postal_code=postal_code,
            city=city, country=country, lat=lat, lon=lon))
        create_household(conn, Household("hh-" + cid.removeprefix("cus-"), cid))
    _print(customer, as_json)


@customer_app.command("consent")
def customer_consent(
    customer_id: str,
    kind: Annotated[str, typer.Argument(help="proactive_email or usage_for_availability")],
    grant: Annotated[bool, typer.Option("--grant/--withdraw")],
    source: Annotated[str, typer.Option(help="Where the decision came from")] = "cli",
) -> None:
    """Record a consent decision (in force at once)."""
    from devices.customers import ConsentChange
    from devices.customerstore import record_consent

    with _conn() as conn:
        now = record_consent(conn, customer_id, ConsentChange(kind, grant, source))
    typer.echo(f"proactive_email={now.proactive_email} "
               f"usage_for_availability={now.usage_for_availability}")


@customer_app.command("export")
def customer_export(
    customer_id: str,
    out: Annotated[Path | None, typer.Option(help="File to write (default: stdout)")] = None,
) -> None:
    """Export everything held about a customer as one JSON document (audited)."""
    from devices.privacy import export_customer

    with _conn() as conn:
        doc = json.dumps(export_customer(conn, customer_id, actor=_actor()), indent=2,
                         default=str)
    if out is None:
        typer.echo(doc)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(doc)
    typer.echo(f"wrote {out}")


@customer_app.command("erase")
def customer_erase(
    customer_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm the erasure")] = False,
) -> None:
    """Erase a customer: personal data deleted, devices detached and revoked (audited)."""
    from devices.privacy import erase_customer

    if not yes:
        typer.confirm(f"Erase customer {customer_id} for good?", abort=True)
    with _conn() as conn:
        summary = erase_customer(conn, customer_id, actor=_actor())
    typer.echo(json.dumps({"erased": customer_id, **summary}))


@household_app.command("add")
def household_add(customer_id: str, label: str = "home",
                  household_id: Annotated[str | None, typer.Option("--id")] = None) -> None:
    """Add a household to a customer."""
    from devices.customers import Household, new_id
    from devices.customerstore import create_household

    with _conn() as conn:
        household = create_household(conn, Household(household_id or new_id("hh"),
                                                     customer_id, label))
    typer.echo(household.household_id)


@household_app.command("assign")
def household_assign(device_id: str, household_id: str) -> None:
    """Put a device into a household."""
    from devices.customerstore import assign_device

    with _conn() as conn:
        assign_device(conn, device_id, household_id)
    typer.echo(f"{device_id} -> {household_id}")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin, scheduler or viewer")],
    name: Annotated[str, typer.Option(help="Who or what the token is for")] = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Mint an API token (printed once; stored hashed)."""
    from fixahead.web.auth import create_token

    with _conn() as conn:
        token = create_token(conn, role=role, name=name, actor=_actor())
    typer.echo(json.dumps({"role": role, "name": name, "token": token}) if as_json
               else f"{role} token for {name}: {token}  (shown once)")


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke an API token by its id."""
    from fixahead.web.auth import revoke_token

    with _conn() as conn:
        if not revoke_token(conn, token_id, actor=_actor()):
            typer.echo(f"error: no active token {token_id}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked token {token_id}")
