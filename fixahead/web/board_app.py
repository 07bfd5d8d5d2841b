"""The whole web process: the registry API plus the schedulers' board, pages and API.

`fixahead run web` builds it with `create_web_app(database_url, secret=..., ...)`; the parts
are exposed too (`web_routers`, `configure_web`) for a caller that assembles its own app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from psycopg_pool import ConnectionPool

from dispatch.service import DispatchConfig
from dispatch.storm import StormConfig
from fixahead.web.app import create_app
from fixahead.web.context import MailSink, WebContext
from fixahead.web.live import Hub, Listener
from fixahead.web.pagedeps import install_page_handlers
from fixahead.web.routes.api import (
    api_dead_letters,
    api_device_data,
    api_incidents,
    api_jobs,
    api_technicians,
)
from fixahead.web.routes.pages import (
    account,
    board_moves,
    board_pages,
    dead_letter_pages,
    job_pages,
    login,
    more_pages,
    storage_pages,
    storm_pages,
)

STATIC = Path(__file__).resolve().parent / "static"


def web_routers() -> list[APIRouter]:
    """The people-facing pages and the jobs/technicians/incidents/device-data API."""
    return [login.router, board_pages.router, board_moves.router, job_pages.router,
            more_pages.router, account.router,
            api_jobs.router, api_jobs.precision_router, api_technicians.router,
            api_incidents.router, api_device_data.router, dead_letter_pages.router,
            api_dead_letters.router, storm_pages.router, storage_pages.router]


def configure_web(database_url: str, *, secret: bytes, secure_cookies: bool = True,
                  tz: str = "UTC", sink: MailSink | None = None,
                  clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                  live: bool = True, storms: StormConfig | None = None,
                  dispatch: DispatchConfig | None = None,
                  ) -> Callable[[FastAPI, ConnectionPool], Callable[[], None]]:
    """A `configure` hook for `create_app`: the WebContext and the LISTEN thread."""
    if len(secret) < 16:
        raise ValueError("the web secret needs at least 16 bytes")

    def configure(app: FastAPI, pool: ConnectionPool) -> Callable[[], None]:
        ctx = WebContext(secret=secret, secure_cookies=secure_cookies, tz=tz, sink=sink,
                         clock=clock, storms=storms or StormConfig(),
                         dispatch=dispatch or DispatchConfig())
        listener = None
        if live:
            ctx.hub = Hub()
            listener = Listener(database_url, ctx.hub).start()
        app.state.web = ctx
        return listener.close if listener else (lambda: None)

    return configure


def create_web_app(database_url: str, *, secret: bytes, secure_cookies: bool = True,
                   tz: str = "UTC", sink: MailSink | None = None,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                   extra_routers: Sequence[APIRouter] = (), pool_max: int = 8,
                   live: bool = True,
                   also: Callable[[FastAPI, ConnectionPool], None] | None = None,
                   storms: StormConfig | None = None,
                   dispatch: DispatchConfig | None = None) -> FastAPI:
    """The web app; `also(app, pool)` runs at start-up too (e.g. the customer pages'
    context), and `extra_routers` are mounted as given (e.g. the customer pages). `storms`
    and `dispatch` are the tunables a released storm is dispatched with (defaults if None)."""
    hook = configure_web(database_url, secret=secret, secure_cookies=secure_cookies, tz=tz,
                         sink=sink, clock=clock, live=live, storms=storms, dispatch=dispatch)

    def configure(app: FastAPI, pool: ConnectionPool) -> Callable[[], None]:
        close = hook(app, pool)
        if also is not None:
            also(app, pool)
        return close

    app = create_app(database_url, routers=[*web_routers(), *extra_routers],
                     configure=configure, pool_max=pool_max)
    install_page_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
