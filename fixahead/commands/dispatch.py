"""`fixahead dispatch ...`: technicians, holds, availability, the email outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Annotated, Any

import typer

from fixahead.commands import connection as _conn

dispatch_app = typer.Typer(help="Dispatch: technicians, visits, availability, email.",
                           no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(dispatch_app, name="dispatch")


def _setting(name: str, given: Any, default: Any = None) -> Any:
    """An option's value, else the settings field (once the lead adds it), else a default."""
    if given is not None:
        return given
    from fixahead.commands.common import load_cli_settings

    return getattr(load_cli_settings(), name, None) or default


@dispatch_app.command("technician-add")
def technician_add(
    name: Annotated[str, typer.Option(help="Display name")],
    skills: Annotated[str, typer.Option(help="Comma-separated skills, e.g. washer,dryer")],
    lat: Annotated[float, typer.Option(help="Home base latitude")],
    lon: Annotated[float, typer.Option(help="Home base longitude")],
    tz: Annotated[str, typer.Option(help="IANA time zone of the working hours")] = "UTC",
    territory: str = "",
    start: Annotated[str, typer.Option(help="Working day start HH:MM")] = "08:00",
    end: Annotated[str, typer.Option(help="Working day end HH:MM")] = "17:00",
    days: Annotated[str, typer.Option(help="Working weekdays, 0=Monday")] = "0,1,2,3,4",
) -> None:
    """Add a technician."""
    from dispatch.booking import Technician
    from dispatch.booking_store import add_technician

    t = Technician(0, name, frozenset(s.strip() for s in skills.split(",") if s.strip()), lat,
                   lon, territory=territory, tz=tz, work_start=time.fromisoformat(start),
                   work_end=time.fromisoformat(end),
                   work_days=frozenset(int(d) for d in days.split(",")))
    with _conn() as conn:
        typer.echo(f"technician {add_technician(conn, t)}")


@dispatch_app.command("technicians")
def technicians(as_json: JsonOpt = False) -> None:
    """List active technicians."""
    from dispatch.booking_store import load_technicians

    with _conn() as conn:
        rows = [{"id": t.technician_id, "name": t.name, "skills": sorted(t.skills),
                 "lat": t.lat, "lon": t.lon, "tz": t.tz, "territory": t.territory}
                for t in load_technicians(conn)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['id']:>5}  {r['name']:<24} {','.join(r['skills']):<30} {r['tz']}")


@dispatch_app.command("expire-holds")
def expire_holds_cmd() -> None:
    """Release visit holds that expired unconfirmed."""
    from dispatch.booking_store import expire_holds

    with _conn() as conn:
        typer.echo(f"released {expire_holds(conn, now=datetime.now(UTC))} hold(s)")


@dispatch_app.command("refresh-availability")
def refresh_availability_cmd() -> None:
    """Recompute household availability from usage (consenting households only)."""
    from dispatch.availability_store import refresh_availability
    from fixahead.wiring import dispatch_ports

    with _conn() as conn:
        n = refresh_availability(conn, now=datetime.now(UTC), ports=dispatch_ports())
        typer.echo(f"refreshed {n} household(s)")


@dispatch_app.command("outbox")
def outbox_cmd(as_json: JsonOpt = False, limit: int = 50) -> None:
    """Show the email outbox: counts by state and the newest permanent failures."""
    from dispatch.outbox import failed_emails
    from dispatch.queries import outbox_counts

    with _conn() as conn:
        counts = outbox_counts(conn)
        failed = failed_emails(conn, limit=limit)
    if as_json:
        typer.echo(json.dumps({"counts": counts, "failed": [
            {"id": i, "to": to, "error": err} for i, to, err in failed]}, indent=2))
        return
    typer.echo("  ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "empty")
    for i, to, err in failed:
        typer.echo(f"failed {i:>6} {to}: {err}")


@dispatch_app.command("send")
def send_cmd(
    smtp_host: Annotated[str | None, typer.Option(help="SMTP server host")] = None,
    smtp_port: Annotated[int | None, typer.Option(help="SMTP server port")] = None,
    smtp_username: Annotated[str | None, typer.Option()] = None,
    smtp_password: Annotated[str | None, typer.Option()] = None,
    smtp_tls: Annotated[bool, typer.Option(help="Implicit TLS (port 465)")] = False,
    mail_from: Annotated[str | None, typer.Option(help="Sender address")] = None,
    base_url: Annotated[str | None, typer.Option(help="Public URL of the customer pages")]
    = None,
    link_secret: Annotated[str | None, typer.Option(help="Secret that signs customer links")]
    = None,
) -> None:
    """Deliver every due email once (the scheduler does this continuously)."""
    from dispatch.email.render import EmailSettings
    from dispatch.email.sender import SmtpSettings, deliver_due

    secret = _setting("link_secret", link_secret)
    if not secret:
        raise typer.BadParameter("a link secret is needed (--link-secret)")
    smtp = SmtpSettings(host=_setting("smtp_host", smtp_host, "127.0.0.1"),
                        port=int(_setting("smtp_port", smtp_port, 25)),
                        username=_setting("smtp_username", smtp_username),
                        password=_setting("smtp_password", smtp_password),
                        use_tls=bool(_setting("smtp_tls", smtp_tls or None, False)))
    email = EmailSettings(base_url=_setting("public_base_url", base_url, "http://127.0.0.1:8000"),
                          from_addr=_setting("mail_from_address", mail_from,
                                             "service@fixahead.local"),
                          from_name=_setting("mail_from_name", None, "Fixahead Service"),
                          secret=str(secret).encode())
    with _conn() as conn:
        r = deliver_due(conn, smtp, email)
    typer.echo(f"sent {r.sent}, retried {r.retried}, failed {r.failed}")


@dispatch_app.command("run")
def run_cmd(
    smtp_host: Annotated[str | None, typer.Option(help="SMTP server host")] = None,
    smtp_port: Annotated[int | None, typer.Option(help="SMTP server port")] = None,
    mail_from: Annotated[str | None, typer.Option(help="Sender address")] = None,
    base_url: Annotated[str | None, typer.Option(help="Public URL of the customer pages")]
    = None,
    link_secret: Annotated[str | None, typer.Option(help="Secret that signs customer links")]
    = None,
    sink: Annotated[bool, typer.Option(help="Start an embedded SMTP sink and send to it")]
    = False,
    for_seconds: Annotated[float | None, typer.Option("--for", help="Stop after this long")]
    = None,
) -> None:
    """Run the dispatch jobs (outbox, holds, reminders, availability) until Ctrl-C."""
    import threading
    from contextlib import contextmanager

    import psycopg

    from dispatch.email.render import EmailSettings
    from dispatch.email.sender import SmtpSettings
    from dispatch.email.sink import SmtpSink
    from dispatch.jobs import build_scheduler
    from fixahead.commands.common import load_cli_settings, stop_event
    from fixahead.services import database, prepare_database
    from fixahead.wiring import dispatch_ports

    secret = _setting("link_secret", link_secret)
    if not secret:
        raise typer.BadParameter("a link secret is needed (--link-secret)")
    stop = stop_event()
    if for_seconds is not None:
        threading.Timer(for_seconds, stop.set).start()
    embedded = SmtpSink().start() if sink else None
    try:
        smtp = SmtpSettings(host=_setting("smtp_host", smtp_host, "127.0.0.1"),
                            port=embedded.port if embedded else int(
                                _setting("smtp_port", smtp_port, 25)))
        email = EmailSettings(
            base_url=_setting("public_base_url", base_url, "http://127.0.0.1:8000"),
            from_addr=_setting("mail_from_address", mail_from, "service@fixahead.local"),
                          from_name=_setting("mail_from_name", None, "Fixahead Service"),
            secret=str(secret).encode())
        with database(load_cli_settings()) as url:
            prepare_database(url)

            @contextmanager
            def connect() -> Iterator[psycopg.Connection]:
                with psycopg.connect(url, autocommit=True) as conn:
                    yield conn

            scheduler = build_scheduler(connect, smtp=smtp, email=email, ports=dispatch_ports())
            scheduler.start()
            typer.echo(f"dispatch jobs running; SMTP {smtp.host}:{smtp.port}")
            try:
                stop.wait()
            finally:
                scheduler.shutdown(wait=True)
    finally:
        if embedded is not None:
            typer.echo(f"the embedded sink received {len(embedded.handler.messages())} email(s)")
            embedded.stop()
