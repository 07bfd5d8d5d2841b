"""Dependencies of the people-facing pages: the logged-in session, its role, CSRF checks."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from fixahead.web.context import web_context
from fixahead.web.cookies import SESSION_COOKIE, unsign
from fixahead.web.deps import ConnDep
from fixahead.web.users import Session, load_session

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class PageError(Exception):
    """A page request that cannot be served: shown as a small HTML page with its status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginRequired(Exception):
    """No valid session: go to the login page and come back."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def current_session(request: Request, conn: ConnDep) -> Session | None:
    """The session of the signed cookie, if it is valid and live."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    ctx = web_context(request)
    session_id = unsign(ctx.secret, raw)
    return None if session_id is None else load_session(conn, session_id, now=ctx.clock())


MaybeSession = Annotated[Session | None, Depends(current_session)]


def _require(role: str, session: Session | None, request: Request) -> Session:
    if session is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}"
                                                if request.url.query else ""))
    if not session.user.may(role):
        raise PageError(403, f"This needs the {role} role; you are signed in as "
                        f"{session.user.role}.")
    return session


def page(role: str) -> Callable[..., Session]:
    """A dependency for pages that read: a session with `role` or higher."""
    def check(request: Request, session: MaybeSession) -> Session:
        return _require(role, session, request)
    return check


def change(role: str) -> Callable[..., Awaitable[Session]]:
    """A dependency for requests that change something: role, and the session's CSRF token
    in the form field `csrf_token` or the `X-CSRF-Token` header (htmx sends the header)."""
    async def check(request: Request, session: MaybeSession) -> Session:
        s = _require(role, session, request)
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            field = (await request.form()).get(CSRF_FIELD)
            sent = field if isinstance(field, str) else None
        if not sent or not hmac.compare_digest(sent, s.csrf_token):
            raise PageError(403, "The form was missing its security token or it was stale. "
                            "Reload the page and try again.")
        return s
    return check


ViewerPage = Annotated[Session, Depends(page("viewer"))]
SchedulerPage = Annotated[Session, Depends(page("scheduler"))]
AdminPage = Annotated[Session, Depends(page("admin"))]
SchedulerChange = Annotated[Session, Depends(change("scheduler"))]
AdminChange = Annotated[Session, Depends(change("admin"))]


def install_page_handlers(app: FastAPI) -> None:
    """Turn LoginRequired into a redirect and PageError into an HTML page (before start)."""

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = "/login?next=" + quote(exc.next_url, safe="")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(psycopg.DataError)
    async def bad_data(request: Request, exc: psycopg.DataError) -> Response:
        # a value PostgreSQL cannot take (out of range, NUL byte, ...): the caller's mistake
        return JSONResponse({"error": "invalid_request",
                             "detail": f"a value was refused by the database: {exc}"},
                            status_code=422)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> HTMLResponse:
        from fixahead.web.templating import templates

        return templates.TemplateResponse(request, "error.html",
                                          {"status": exc.status, "message": exc.message},
                                          status_code=exc.status)
