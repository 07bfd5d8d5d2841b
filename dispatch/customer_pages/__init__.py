"""The small pages a customer's signed links open (a FastAPI router the web app mounts).

GET shows what the link will do and asks for a click (mail scanners prefetch GET links, so GET
never acts); POST acts once. The one-click unsubscribe POST of RFC 8058 lands on the same URL.
The app provides `app.state.customer_pages`, a `PagesContext`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dispatch import actions, linkpage
from dispatch.linkpage import Page
from dispatch.links import Claim, LinkError, verify
from dispatch.ports import Ports

_ENV = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"
                                           / "pages"), autoescape=select_autoescape(["html"]))


@dataclass(frozen=True)
class PagesContext:
    """What the pages need: a connection factory (autocommit), the link secret, dispatch's
    ports (a "still broken" click books a visit by the household's usage), a clock."""

    connect: Callable[[], AbstractContextManager[psycopg.Connection]]
    secret: bytes
    ports: Ports
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def _context(request: Request) -> PagesContext:
    ctx = getattr(request.app.state, "customer_pages", None)
    if not isinstance(ctx, PagesContext):
        raise RuntimeError("app.state.customer_pages must be a dispatch PagesContext")
    return ctx


ContextDep = Annotated[PagesContext, Depends(_context)]
router = APIRouter(prefix="/c", tags=["customer pages"])


def _page(page: Page) -> HTMLResponse:
    html = _ENV.get_template("page.html").render(page=page)
    return HTMLResponse(html, status_code=page.status)


def _claim(ctx: PagesContext, token: str) -> Claim | HTMLResponse:
    try:
        return verify(ctx.secret, token, now=ctx.clock())
    except LinkError as exc:
        return _page(linkpage.bad_link(exc.reason))


@router.get("/{token}", response_class=HTMLResponse)
def show(token: str, ctx: ContextDep) -> HTMLResponse:
    """What the link will do, with a button; or what it already did."""
    claim = _claim(ctx, token)
    if isinstance(claim, HTMLResponse):
        return claim
    with ctx.connect() as conn:
        return _page(linkpage.show(conn, claim, secret=ctx.secret, now=ctx.clock()))


@router.post("/{token}", response_class=HTMLResponse)
def act(token: str, ctx: ContextDep,
        rank: Annotated[int | None, Form()] = None) -> HTMLResponse:
    """Carry out the link once (also the RFC 8058 one-click unsubscribe)."""
    claim = _claim(ctx, token)
    if isinstance(claim, HTMLResponse):
        return claim
    with ctx.connect() as conn:
        result = actions.perform(conn, claim, now=ctx.clock(), rank=rank, ports=ctx.ports)
        return _page(linkpage.after(conn, claim, result, secret=ctx.secret, now=ctx.clock()))
