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

from dispatch import actions, adapter, booking_store
from dispatch.customer_pages.texts import TEXTS, text
from dispatch.email.render import window_text
from dispatch.links import Claim, LinkError, verify

_ENV = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"
                                           / "pages"), autoescape=select_autoescape(["html"]))


@dataclass(frozen=True)
class PagesContext:
    """What the pages need: a connection factory (autocommit), the link secret, a clock."""

    connect: Callable[[], AbstractContextManager[psycopg.Connection]]
    secret: bytes
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def _context(request: Request) -> PagesContext:
    ctx = getattr(request.app.state, "customer_pages", None)
    if not isinstance(ctx, PagesContext):
        raise RuntimeError("app.state.customer_pages must be a dispatch PagesContext")
    return ctx


ContextDep = Annotated[PagesContext, Depends(_context)]
router = APIRouter(prefix="/c", tags=["customer pages"])


def _page(lang: str, title: str, message: str = "", *, status: int = 200, form: bool = False,
          button: str = "", offers: list[dict[str, object]] | None = None) -> HTMLResponse:
    html = _ENV.get_template("page.html").render(lang=lang, title=title, message=message,
                                                 form=form, button=button, offers=offers or [])
    return HTMLResponse(html, status_code=status)


def _language(conn: psycopg.Connection, claim: Claim) -> tuple[str, str]:
    cid = actions.customer_of(conn, claim)
    customer = adapter.load_customer(conn, customer_id=cid) if cid else None
    return (customer.language, customer.tz) if customer else ("en", "UTC")


def _claim(ctx: PagesContext, token: str) -> Claim | HTMLResponse:
    try:
        return verify(ctx.secret, token, now=ctx.clock())
    except LinkError as exc:
        if exc.reason == "expired":
            return _page("en", TEXTS["en"]["expired"], TEXTS["de"]["expired"], status=410)
        return _page("en", TEXTS["en"]["invalid"], TEXTS["de"]["invalid"], status=404)


@router.get("/{token}", response_class=HTMLResponse)
def show(token: str, ctx: ContextDep) -> HTMLResponse:
    """What the link will do, with a button; or what it already did."""
    claim = _claim(ctx, token)
    if isinstance(claim, HTMLResponse):
        return claim
    with ctx.connect() as conn:
        lang, tz = _language(conn, claim)
        before = actions.previous_use(conn, token)
        if before is not None:
            return _page(lang, *text(lang, claim.action, before))
        offers = []
        if claim.action == "choose":
            current = booking_store.current_visit(conn, claim.subject)
            now = ctx.clock()
            for rank, o in enumerate(booking_store.load_offers(conn, claim.subject)):
                if o.start > now:  # a past offer cannot be taken any more
                    offers.append({"rank": rank,
                                   "window": window_text(o.start, o.end, tz, lang)})
            if current is None and not offers:
                return _page(lang, *text(lang, claim.action, "unknown"))
    title, message = text(lang, claim.action, "ask")
    return _page(lang, title, message, form=True, button=TEXTS[lang]["button"][claim.action],
                 offers=offers)


@router.post("/{token}", response_class=HTMLResponse)
def act(token: str, ctx: ContextDep,
        rank: Annotated[int | None, Form()] = None) -> HTMLResponse:
    """Carry out the link once (also the RFC 8058 one-click unsubscribe)."""
    claim = _claim(ctx, token)
    if isinstance(claim, HTMLResponse):
        return claim
    with ctx.connect() as conn:
        lang, _ = _language(conn, claim)
        result = actions.perform(conn, claim, token, now=ctx.clock(), rank=rank)
    status = 409 if result.outcome == "taken" else 200
    return _page(lang, *text(lang, claim.action, result.outcome), status=status)
