"""The dispatch board page, its htmx fragment, live updates (SSE) and moving a job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from dispatch import jobmove
from fixahead.web import board, boardstore
from fixahead.web.context import web_context
from fixahead.web.cookies import SESSION_COOKIE, unsign
from fixahead.web.deps import ConnDep
from fixahead.web.pagedeps import PageError, SchedulerChange, ViewerPage
from fixahead.web.templating import render
from fixahead.web.users import Session, load_session

router = APIRouter(include_in_schema=False)
Day = Annotated[date | None, Query(description="First day shown (default today)")]
Days = Annotated[int, Query(ge=1, le=7)]


def board_data(conn: psycopg.Connection, *, first: date, days: int, tz: str, now: datetime,
               territory: str | None = None, skill: str | None = None,
               names: bool = True) -> dict[str, Any]:
    """Everything the board grid shows, for a window of days and the filters."""
    whole = board.columns(first, days, tz, start=time(0), end=None)
    techs = boardstore.technicians(conn, territory=territory, skill=skill)
    jobs = boardstore.jobs(conn, [t.technician_id for t in techs], whole[0].start,
                           whole[-1].end, now=now, tz=tz, names=names)
    start, end = board.fit_hours(jobs)
    cols = board.columns(first, days, tz, start=start, end=end)
    return {"cols": cols, "techs": techs, "cells": board.cells_html(board.place(jobs, cols)),
            "marks": board.hour_marks(cols[0]), "job_count": len(jobs)}


def _params(request: Request, session: Session, first: date, days: int,
            territory: str | None, skill: str | None) -> dict[str, Any]:
    tz = web_context(request).tz
    return {"first": first, "days": days, "tz": tz, "territory": territory or None,
            "skill": skill or None, "names": session.user.may("scheduler")}


def _today(request: Request) -> date:
    ctx = web_context(request)
    return ctx.clock().astimezone(ZoneInfo(ctx.tz)).date()


@router.get("/board", response_class=HTMLResponse)
def board_page(request: Request, conn: ConnDep, session: ViewerPage, day: Day = None,
               days: Days = 1, territory: str | None = None,
               skill: str | None = None) -> HTMLResponse:
    """Technicians down the side, time across; the jobs without a slot beside it."""
    first = day or _today(request)
    now = web_context(request).clock()
    p = _params(request, session, first, days, territory, skill)
    query = urlencode({k: v for k, v in {"day": first.isoformat(), "days": days,
                                          "territory": territory, "skill": skill}.items() if v})
    territories, skills = boardstore.filter_options(conn)
    return render(request, "board.html", session, **board_data(conn, now=now, **p),
                  first=first, days=days, territory=territory or "", skill=skill or "",
                  territories=territories, skills=skills, query=query,
                  prev=(first - timedelta(days=days)).isoformat(),
                  next=(first + timedelta(days=days)).isoformat(),
                  unassigned=boardstore.unassigned(conn, now=now, names=p["names"]),
                  waiting=boardstore.waiting_for_customer(conn, now=now, names=p["names"]))


@router.get("/board/grid", response_class=HTMLResponse)
def board_grid(request: Request, conn: ConnDep, session: ViewerPage, day: Day = None,
               days: Days = 1, territory: str | None = None,
               skill: str | None = None) -> HTMLResponse:
    """The grid, and the side lists out of band (htmx swaps both in when a visit changes)."""
    first = day or _today(request)
    now = web_context(request).clock()
    p = _params(request, session, first, days, territory, skill)
    query = urlencode({k: v for k, v in {"day": first.isoformat(), "days": days,
                                          "territory": territory, "skill": skill}.items() if v})
    return render(request, "board_grid.html", session, **board_data(conn, now=now, **p),
                  query=query, days=days, oob=True,
                  unassigned=boardstore.unassigned(conn, now=now, names=p["names"]),
                  waiting=boardstore.waiting_for_customer(conn, now=now, names=p["names"]))


def _stream_session(request: Request) -> Session | None:
    # no pooled connection is held for the life of the stream: look the session up and let go
    ctx = web_context(request)
    session_id = unsign(ctx.secret, request.cookies.get(SESSION_COOKIE, ""))
    if session_id is None:
        return None
    with request.app.state.pool.connection() as conn:
        return load_session(conn, session_id, now=ctx.clock())


@router.get("/board/events")
async def board_events(request: Request) -> Response:
    """Server-sent events: one `visit` event per change of any visit, from any process."""
    async with request.app.state.admission.slot():  # see fixahead/web/admission.py
        session = await asyncio.to_thread(_stream_session, request)
    if session is None:
        return Response("sign in first", status_code=401)
    hub = web_context(request).hub
    if hub is None:
        return Response("live updates are off", status_code=503)
    queue = hub.subscribe()

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            while not await request.is_disconnected():
                try:
                    message = await asyncio.wait_for(queue.get(), 10)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: visit\ndata: {message}\n\n"
        finally:
            hub.unsubscribe(queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/jobs/{visit_id}/move")
def move(request: Request, visit_id: int, conn: ConnDep, session: SchedulerChange,
         technician_id: Annotated[int, Form()], start: Annotated[str, Form()]) -> Response:
    """Move a job to another technician and/or time; a clash is refused with its reason."""
    ctx = web_context(request)
    try:
        starts_at = datetime.fromisoformat(start)
    except ValueError:
        raise PageError(422, f"{start!r} is not a date and time") from None
    if starts_at.tzinfo is None:  # the form's datetime-local is in the page's zone
        starts_at = starts_at.replace(tzinfo=ZoneInfo(ctx.tz))
    try:
        result = jobmove.move_job(conn, visit_id, technician_id=technician_id,
                                     starts_at=starts_at, actor=session.user.actor,
                                     now=ctx.clock())
    except jobmove.MoveRefused as exc:
        from fixahead.web.routes.pages.job_pages import job_page_response

        return job_page_response(request, conn, session, visit_id=visit_id,
                                 error=str(exc), status=409)
    note = "moved" + (f" ({result['warning']})" if result["warning"] else "")
    return RedirectResponse(f"/jobs/{visit_id}?" + urlencode({"done": note}), status_code=303)
