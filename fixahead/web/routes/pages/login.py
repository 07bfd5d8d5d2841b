"""Sign in and out (people). The login form is protected by a double-submit CSRF cookie."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from devices.audit import audit
from fixahead.web.context import web_context
from fixahead.web.cookies import SESSION_COOKIE, sign, unsign
from fixahead.web.deps import ConnDep
from fixahead.web.pagedeps import MaybeSession, PageError
from fixahead.web.templating import render
from fixahead.web.users import SESSION_TTL, check_login, close_session, open_session

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "fixahead_login_csrf"
MAX_FAILURES, LOCKOUT = 10, timedelta(minutes=15)  # per account: slows password guessing


def _safe_next(target: str) -> str:
    # only paths of this site: never an absolute URL (open redirect)
    ok = target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target
    return target if ok else "/board"


def _login_page(request: Request, next_url: str, error: str = "",
                status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status=status, login_csrf=token,
                      next=_safe_next(next_url), error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=web_context(request).secure_cookies, max_age=3600)
    return response


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    """The board is the home page."""
    return RedirectResponse("/board", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: MaybeSession, next: str = "/board") -> Response:
    """The sign-in form (or straight on, when already signed in)."""
    if session is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next)


@router.post("/login")
def login(request: Request, conn: ConnDep, email: Annotated[str, Form()],
          password: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/board") -> Response:
    """Check the password; on success a fresh session in a signed, HttpOnly cookie."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        raise PageError(403, "The sign-in form was stale. Reload the page and try again.")
    # the audit log holds no personal data: a failed sign-in is recorded by a hash of the email
    who = "email-sha256:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    failures = conn.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'user.login_failed' AND subject_id = %s "
        "AND at > now() - %s", (who, LOCKOUT)).fetchone()
    if failures is not None and failures[0] >= MAX_FAILURES:
        return _login_page(request, next, "Too many failed sign-ins for this account; try "
                           "again in 15 minutes.", status=429)
    user = check_login(conn, email, password)
    if user is None:
        with conn.transaction():
            audit(conn, actor="anonymous", action="user.login_failed", subject_type="user",
                  subject_id=who)
        return _login_page(request, next, "Wrong email or password.", status=401)
    ctx = web_context(request)
    session_id = open_session(conn, user, now=ctx.clock())
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, sign(ctx.secret, session_id), httponly=True,
                        samesite="lax", secure=ctx.secure_cookies,
                        max_age=int(SESSION_TTL.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, conn: ConnDep, session: MaybeSession) -> Response:
    """End the session (needs its CSRF token, like every change)."""
    if session is not None:
        form = await request.form()
        sent = request.headers.get("X-CSRF-Token") or str(form.get("csrf_token", ""))
        if not hmac.compare_digest(sent, session.csrf_token):
            raise PageError(403, "The form was missing its security token. Reload and retry.")
        session_id = unsign(web_context(request).secret,
                            request.cookies.get(SESSION_COOKIE, ""))
        if session_id:
            close_session(conn, session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
