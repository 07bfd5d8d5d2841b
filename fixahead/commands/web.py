"""`fixahead web ...`: accounts of the people who use the dispatch board; `build_web_app` for
`fixahead run web`."""

from __future__ import annotations

import hashlib
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fixahead.commands import connection as _conn

if TYPE_CHECKING:
    from fastapi import FastAPI

    from fixahead.settings import Settings

web_app = typer.Typer(help="The web dispatch board: people's accounts.", no_args_is_help=True)
ROLES_HELP = "admin (everything), scheduler (move and finish jobs, incidents), viewer (read)"


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(web_app, name="web")


@web_app.command("user-add")
def user_add(
    email: Annotated[str, typer.Option(help="The person's email (their login)")],
    role: Annotated[str, typer.Option(help=ROLES_HELP)],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from stdin instead of prompting")] = False,
) -> None:
    """Create a person's account; the password is asked for (never an argument)."""
    from fixahead.web.users import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _conn() as conn:
        try:
            user_id = add_user(conn, email=email, role=role, password=password, actor="cli")
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    typer.echo(f"user {user_id} {email} ({role}) created")


def web_secret(settings: Settings) -> bytes:
    """The key that signs session cookies: derived from the link secret when one is set,
    else a random one kept (0600) in data_dir/web-secret."""
    if settings.link_secret:
        return hashlib.sha256(b"fixahead-web:" + settings.link_secret.encode()).digest()
    path = Path(settings.data_dir) / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def build_web_app(settings: Settings, database_url: str, *, link_secret: bytes,
                  sink: Any = None, secure_cookies: bool | None = None,
                  tz: str = "UTC") -> FastAPI:
    """The whole web process: registry API, board, pages, API and the customer pages.

    Cookies are `Secure` unless the public URL is plain http (local demo)."""
    from fastapi import APIRouter, Depends

    from dispatch.customer_pages import PagesContext
    from dispatch.customer_pages import router as customer_router
    from fixahead.health import database_ready
    from fixahead.roles import dispatch_config, storm_config
    from fixahead.web.admission import admitted
    from fixahead.web.board_app import create_web_app
    from fixahead.web.routes.api.diagnostics import router as diagnostics_router
    from fixahead.web.webhealth import install_health
    from fixahead.wiring import dispatch_ports

    if secure_cookies is None:
        secure_cookies = settings.public_base_url.startswith("https://")

    def customer_pages(app: Any, pool: Any) -> None:
        # the pool's connections (autocommit), taken only by requests holding a slot
        app.state.customer_pages = PagesContext(connect=pool.connection, secret=link_secret,
                                                ports=dispatch_ports())

    customers = APIRouter(dependencies=[Depends(admitted)])
    customers.include_router(customer_router)
    app = create_web_app(database_url, secret=web_secret(settings),
                         secure_cookies=secure_cookies, tz=tz, sink=sink,
                         extra_routers=[customers, diagnostics_router],
                         pool_max=settings.db_pool_max,
                         also=customer_pages, storms=storm_config(settings),
                         dispatch=dispatch_config(settings))
    install_health(app, database_ready(database_url))  # /healthz, /readyz, /metrics
    return app
