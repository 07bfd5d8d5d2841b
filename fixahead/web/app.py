"""The FastAPI application factory: no module-level app or pool; the pool lives in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from psycopg_pool import ConnectionPool

from fixahead.web.admission import Admission, install_saturation_handlers
from fixahead.web.errors import install_error_handlers
from fixahead.web.routes.api import audit, catalogs, customers, devices, households, models

API_PREFIX = "/api/v1"


def create_app(
    database_url: str,
    *,
    routers: Sequence[APIRouter] = (),
    configure: Callable[[FastAPI, ConnectionPool], Callable[[], None] | None] | None = None,
    pool_min: int = 1,
    pool_max: int = 8,
    pool_timeout_s: float = 5.0,
    admission_wait_s: float = 5.0,
    title: str = "Fixahead",
) -> FastAPI:
    """The web app: the registry API under /api/v1 plus `routers` mounted as given.

    `configure(app, pool)` runs once the pool is open (e.g. to put other areas' contexts on
    `app.state`); it may return a function to call at shutdown, before the pool is closed.
    At most `pool_max` requests use the database at once; one that waits `admission_wait_s`
    for its turn (or `pool_timeout_s` for a connection) is answered 503 with Retry-After.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = ConnectionPool(database_url, min_size=pool_min, max_size=pool_max,
                              kwargs={"autocommit": True}, open=False, name="web",
                              timeout=pool_timeout_s)
        pool.open(wait=True, timeout=30)
        app.state.pool = pool
        app.state.admission = Admission(pool_max, wait_s=admission_wait_s)
        cleanup = None
        try:
            if configure is not None:
                cleanup = configure(app, pool)
            yield
        finally:
            if cleanup is not None:
                cleanup()
            pool.close()

    app = FastAPI(title=f"{title} API", version="1", lifespan=lifespan,
                  description="Appliance models, error-code catalogs, customers, households and "
                  "devices. Authenticate with `Authorization: Bearer <token>`.")
    install_error_handlers(app)
    install_saturation_handlers(app)
    for module in (models, catalogs, customers, households, devices, audit):
        app.include_router(module.router, prefix=API_PREFIX)
    for router in routers:
        app.include_router(router)
    return app
