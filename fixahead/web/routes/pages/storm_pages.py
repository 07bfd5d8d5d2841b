"""The storms page: fleet incidents (one code on many devices of one model at once) and the
customer emails the storm guard holds for them, with a release for schedulers and admins."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dispatch import hold
from fixahead.storms import release_storm
from fixahead.web.context import web_context
from fixahead.web.deps import ConnDep
from fixahead.web.pagedeps import PageError, SchedulerChange, ViewerPage
from fixahead.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/storms", response_class=HTMLResponse)
def storms_page(request: Request, conn: ConnDep, session: ViewerPage,
                done: str = "") -> HTMLResponse:
    """Fleet incidents, open ones first, with their devices and held emails."""
    return render(request, "storms.html", session, fleets=hold.fleet_incidents(conn),
                  counts=hold.counts(conn), done=done,
                  may_release=session.user.may("scheduler"))


@router.post("/storms/release")
def release_fleet(request: Request, conn: ConnDep, session: SchedulerChange,
                  key: Annotated[str, Form()]) -> Response:
    """Release an open fleet incident's held emails, as `fixahead storms release` does."""
    ctx = web_context(request)
    with conn.transaction():
        # the row lock makes a second click (or the CLI at once) wait, then find it released
        state = hold.lock_fleet(conn, key)
        if state is None:
            raise PageError(404, "There is no such fleet incident.")
        if state != "open":
            raise PageError(409, f"This fleet incident is {state} already.")
        sent = release_storm(conn, key, ctx.storms, ctx.clock(), ctx.dispatch, ctx.ports)
    return RedirectResponse("/storms?" + urlencode(
        {"done": f"Released {key}: {sent} decided now (the hourly cap may hold the rest)."}),
        status_code=303)
