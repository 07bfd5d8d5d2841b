"""Admission control: at most as many requests use the database at once as the pool has
connections, and a request that cannot get in soon is answered 503 with Retry-After.

Why: FastAPI runs sync dependencies and endpoints on one thread pool (40 threads). Without
this, 40 threads could each wait in `pool.connection()` while the 8 requests holding the
connections waited for a thread to run their endpoint: nothing moved until the pool's timeout
(30 s), then 500s. Requests now wait for a slot on the event loop, where waiting costs no
thread; an admitted request holds at most one connection and needs one thread at a time, so
the pool can never be exhausted by requests that are stuck.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from psycopg_pool import PoolTimeout

RETRY_AFTER_S = 2


class Saturated(Exception):
    """No database slot became free in time: answered 503 with Retry-After."""


class Admission:
    """A bounded number of slots; `slot()` waits at most `wait_s` for one."""

    def __init__(self, slots: int, *, wait_s: float) -> None:
        if slots < 1:
            raise ValueError("admission needs at least one slot")
        self.slots = slots
        self.wait_s = wait_s
        self._free = asyncio.Semaphore(slots)
        self.waiting = 0
        self.refused = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the body; Saturated when none is free within `wait_s`."""
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait_s):
                await self._free.acquire()
        except TimeoutError:
            self.refused += 1
            raise Saturated from None
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._free.release()


async def admitted(request: Request) -> AsyncIterator[None]:
    """A dependency: hold a database slot for the rest of the request."""
    admission: Admission = request.app.state.admission
    async with admission.slot():
        yield


def install_saturation_handlers(app: FastAPI) -> None:
    """Answer Saturated and a pool timeout with 503 and Retry-After (never 500)."""

    def busy() -> Response:
        return JSONResponse({"error": "busy", "detail": "the server is busy; try again in "
                             f"{RETRY_AFTER_S} seconds"}, status_code=503,
                            headers={"Retry-After": str(RETRY_AFTER_S)})

    @app.exception_handler(Saturated)
    async def saturated(request: Request, exc: Saturated) -> Response:
        return busy()

    @app.exception_handler(PoolTimeout)
    async def pool_timeout(request: Request, exc: PoolTimeout) -> Response:
        return busy()
