"""A person's own settings: the time zone their pages show times in."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fixahead.web.deps import ConnDep
from fixahead.web.pagedeps import PageError, ViewerPage, change
from fixahead.web.templating import page_zone, render
from fixahead.web.users import Session, set_time_zone, time_zones

router = APIRouter(include_in_schema=False)
ViewerChange = Annotated[Session, Depends(change("viewer"))]


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: ViewerPage, done: str = "") -> HTMLResponse:
    """The person's time zone, with every zone to choose from."""
    return render(request, "account.html", session, zones=time_zones(), done=done,
                  current=page_zone(request, session))


@router.post("/account")
def save_account(request: Request, conn: ConnDep, session: ViewerChange,
                 time_zone: Annotated[str, Form()]) -> Response:
    """Save the time zone."""
    try:
        set_time_zone(conn, session.user, time_zone.strip())
    except ValueError as exc:
        raise PageError(422, str(exc)) from None
    return RedirectResponse("/account?" + urlencode({"done": f"Times now show in {time_zone}."}),
                            status_code=303)

