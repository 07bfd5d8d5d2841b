"""The dispatch board page, its htmx fragment and live updates (SSE)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from dispatch import boardqueries, hold, jobmove
from fixahead.web import board, boardcells, boardload, boardstore
from fixahead.web.context import web_context
from fixahead.web.cookies import SESSION_COOKIE, unsign
from fixahead.web.deps import ConnDep
from fixahead.web.pagedeps import ViewerPage
from fixahead.web.templating import page_zone, render
from fixahead.web.users import Session, load_session

router = APIRouter(include_in_schema=False)
Day = Annotated[date | None, Query(description="First day shown (default today)")]
Days = Annotated[int, Query(ge=1, le=7, description="1, 3 or 7 days")]


@dataclass
class BoardFilters:
    """Territory, skill, state (held, booked, done, urgent) and a search."""

    territory: str | None = None
    skill: str | None = None
    state: str | None = None
    q: str | None = None


def _work_span(techs: list[boardstore.TechRow]) -> tuple[time, time] | None:
    if not techs:
        return None
    return (min(t.shift.work_start for t in techs), max(t.shift.work_end for t in techs))


def board_data(conn: psycopg.Connection, *, first: date, days: int, tz: str, now: datetime,
               territory: str | None = None, skill: str | None = None,
               state: str | None = None, q: str | None = None,
               names: bool = True) -> dict[str, Any]:
    """Everything the board grid shows, for a window of days, the filters and a search."""
    whole = board.columns(first, days, tz, start=time(0), end=None)
    everyone = boardstore.technicians(conn)
    techs = boardstore.of(everyone, territory=territory, skill=skill)
    jobs = boardstore.jobs(conn, [t.technician_id for t in techs], whole[0].start,
                           whole[-1].end, now=now, tz=tz, names=names, state=state, q=q)
    if q or state:  # only the rows with something to show
        hit = {j.technician_id for j in jobs}
        techs = [t for t in techs if t.technician_id in hit]
    start, end = board.fit_hours(jobs, _work_span(techs))
    cols = board.columns(first, days, tz, start=start, end=end)
    legs = boardload.legs(jobs, jobmove.SPEED_KMH)
    cells = (boardcells.day_cells(board.place(jobs, cols), cols, legs) if days == 1
             else boardcells.agenda_cells(jobs, cols, legs))
    loads = boardload.loads(jobs, {t.technician_id: t.shift for t in techs},
                            [c.day for c in cols], tz)
    col_data = ";".join(f"{int(w[0])},{int(c.span_s[0])},{int(c.span_s[1])}"
                        for c, w in zip(cols, boardload.day_spans([c.day for c in cols], tz),
                                        strict=True))
    # a day nobody works and nothing is booked (a weekend) gets a narrow column
    idle = {i for i in range(len(cols)) if days > 1
            and not any(loads[(t.technician_id, i)].work_h or loads[(t.technician_id, i)].booked_h
                        for t in techs)}
    rows = boardcells.rows_html(techs, cols, cells,
                                {k: boardcells.load_html(v) for k, v in loads.items()},
                                axis=days == 1, idle=idle)
    return {"cols": cols, "techs": techs, "everyone": everyone, "rows": rows,
            "col_data": col_data, "idle": idle,
            "marks": board.hour_marks(cols[0], 1 if days == 1 else 3),
            "job_count": len(jobs), "mode": "axis" if days == 1 else "agenda",
            "hours": round((cols[0].end - cols[0].start).total_seconds() / 3600)}


def _params(request: Request, session: Session, first: date, days: int,
            f: BoardFilters) -> dict[str, Any]:
    return {"first": first, "days": view_days(days), "tz": page_zone(request, session),
            "territory": f.territory or None, "skill": f.skill or None,
            "state": f.state if f.state in boardstore.STATES else None,
            "q": (f.q or "").strip()[:100] or None, "names": session.user.may("scheduler")}


def view_days(days: int) -> int:
    """The nearest view: one day, three days or a week."""
    return 1 if days < 3 else 3 if days < 7 else 7


def _today(request: Request, session: Session) -> date:
    return web_context(request).clock().astimezone(ZoneInfo(page_zone(request, session))).date()


def _query(first: date, days: int, f: BoardFilters) -> str:
    return urlencode({k: v for k, v in {"day": first.isoformat(), "days": days,
                                        "territory": f.territory, "skill": f.skill,
                                        "state": f.state, "q": f.q}.items() if v})


@router.get("/board", response_class=HTMLResponse)
def board_page(request: Request, conn: ConnDep, session: ViewerPage,
               f: Annotated[BoardFilters, Depends()], day: Day = None,
               days: Days = 1) -> HTMLResponse:
    """Technicians down the side, time across; the jobs without a slot beside it."""
    first, days = day or _today(request, session), view_days(days)
    now = web_context(request).clock()
    p = _params(request, session, first, days, f)
    data = board_data(conn, now=now, **p)
    territories, skills = boardstore.filter_options(data["everyone"])
    nav = {k: v for k, v in (("territory", f.territory), ("skill", f.skill),
                             ("state", f.state), ("q", f.q)) if v}
    return render(request, "board.html", session, **data,
                  first=first, days=days, f=f, territories=territories, skills=skills,
                  states=boardstore.STATES, query=_query(first, days, f),
                  prev=_query(first - timedelta(days=days), days, f),
                  next=_query(first + timedelta(days=days), days, f),
                  today=urlencode({"days": days, **nav}),
                  unassigned=boardstore.unassigned(conn, now=now, names=p["names"], q=p["q"]),
                  waiting=boardqueries.waiting_for_customer(conn, now=now, names=p["names"]),
                  all_techs=data["everyone"],
                  storms=hold.counts(conn))


@router.get("/board/grid", response_class=HTMLResponse)
def board_grid(request: Request, conn: ConnDep, session: ViewerPage,
               f: Annotated[BoardFilters, Depends()], day: Day = None,
               days: Days = 1) -> HTMLResponse:
    """The grid, and the side lists out of band (htmx swaps both in when a visit changes)."""
    first, days = day or _today(request, session), view_days(days)
    now = web_context(request).clock()
    p = _params(request, session, first, days, f)
    return render(request, "board_grid.html", session, **board_data(conn, now=now, **p),
                  query=_query(first, days, f), days=days, oob=True, f=f,
                  unassigned=boardstore.unassigned(conn, now=now, names=p["names"], q=p["q"]),
                  waiting=boardqueries.waiting_for_customer(conn, now=now, names=p["names"]))


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
