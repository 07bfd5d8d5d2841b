"""Jinja2 templates of the people-facing pages, with a few filters for times."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fixahead.web.context import web_context
from fixahead.web.users import Session

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


def _local(value: datetime | None, fmt: str, tz: str) -> str:
    return "" if value is None else value.astimezone(ZoneInfo(tz)).strftime(fmt)


def page_zone(request: Request, session: Session | None) -> str:
    """The zone a person's pages show times in: theirs, else the app's default."""
    if session is not None and session.user.time_zone:
        return session.user.time_zone
    return web_context(request).tz


def render(request: Request, name: str, session: Session | None, *, status: int = 200,
           **context: Any) -> HTMLResponse:
    """A page with the session (for the menu and CSRF token) and time filters in its zone."""
    tz = page_zone(request, session)
    context.update(session=session, csrf=session.csrf_token if session else "", tz=tz,
                   hm=lambda v: _local(v, "%H:%M", tz),
                   dt=lambda v: _local(v, "%a %Y-%m-%d %H:%M", tz),
                   dtin=lambda v: _local(v, "%Y-%m-%dT%H:%M", tz),
                   dtz=lambda v, zone: _local(v, "%a %d %b %H:%M", zone or tz))
    return templates.TemplateResponse(request, name, context, status_code=status)
