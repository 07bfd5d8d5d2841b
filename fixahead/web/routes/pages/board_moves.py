"""Moving and placing jobs from the board (drag and drop, or the keyboard dialog) and the job
page; the customer's P(home) band shown while dragging. Every saved change tells the customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dispatch import jobmove, jobplace, queries
from dispatch.ports import Ports
from fixahead.web.context import web_context
from fixahead.web.customer_changes import tell_customer
from fixahead.web.deps import ConnDep
from fixahead.web.pagedeps import PageError, SchedulerChange, SchedulerPage
from fixahead.web.templating import page_zone
from fixahead.web.users import Session

router = APIRouter(include_in_schema=False)


@dataclass
class MoveForm:
    """Where to: a technician and a start (ISO; without an offset: the person's zone)."""

    technician_id: Annotated[int, Form()]
    start: Annotated[str, Form()]
    visit_id: Annotated[int | None, Form()] = None
    incident_id: Annotated[str | None, Form()] = None
    confirm: Annotated[bool, Form()] = False


def parse_start(text: str, tz: str) -> datetime:
    """A date and time from a form: ISO, with an offset or in the person's zone."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise PageError(422, f"{text!r} is not a date and time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo(tz))


def save_move(conn: psycopg.Connection, session: Session, form: MoveForm, *, tz: str,
              now: datetime, ports: Ports) -> tuple[jobmove.Moved, int | None]:
    """Move the visit or place the incident's job, and tell the customer, in one transaction."""
    starts_at = parse_start(form.start, tz)
    with conn.transaction():
        if form.visit_id is not None:
            moved = jobmove.move_job(conn, form.visit_id, technician_id=form.technician_id,
                                     starts_at=starts_at, actor=session.user.actor, now=now,
                                     ports=ports, tz=tz, confirm=form.confirm)
        elif form.incident_id:
            moved = jobplace.place_job(conn, form.incident_id,
                                       technician_id=form.technician_id, starts_at=starts_at,
                                       actor=session.user.actor, now=now, ports=ports,
                                       tz=tz, confirm=form.confirm)
        else:
            raise PageError(422, "say which job: visit_id or incident_id")
        return moved, tell_customer(conn, moved.incident_id, now=now)


def _summary(conn: psycopg.Connection, moved: jobmove.Moved, emailed: int | None,
             tz: str) -> str:
    tech = queries.technician(conn, moved.technician_id)
    name, number = ((tech["name"], queries.job_number(conn, moved.incident_id)) if tech
                    else (f"technician {moved.technician_id}", None))
    when = moved.starts_at.astimezone(ZoneInfo(tz))
    job = f"J-{number}" if number else f"Job {moved.visit_id}"
    told = (" The customer will get an email." if emailed is not None
            else " The customer is not told by email (no address or no consent): call them.")
    return f"{job} is with {name} on {when:%a %d %b %H:%M}.{told}"


@router.post("/board/move")
def board_move(request: Request, conn: ConnDep, session: SchedulerChange,
               form: Annotated[MoveForm, Depends()]) -> JSONResponse:
    """Move or place a job: 200 saved, 409 refused (why) or waiting for a confirmation."""
    ctx = web_context(request)
    tz = page_zone(request, session)
    try:
        moved, emailed = save_move(conn, session, form, tz=tz, now=ctx.clock(),
                                   ports=ctx.ports)
    except jobmove.MoveRefused as exc:
        return JSONResponse({"status": "refused", "message": str(exc)}, status_code=409)
    except jobmove.NeedsConfirmation as exc:
        return JSONResponse({"status": "confirm", "warnings": list(exc.warnings),
                             "message": "Please confirm: " + "; ".join(exc.warnings) + "."},
                            status_code=409)
    return JSONResponse({"status": "moved", "message": _summary(conn, moved, emailed, tz),
                         "visit_id": moved.visit_id, "warnings": list(moved.warnings),
                         "outbox_id": emailed, "travel_before_min": moved.travel_before_min,
                         "travel_after_min": moved.travel_after_min})


@router.post("/jobs/{visit_id}/move")
def job_move(request: Request, visit_id: int, conn: ConnDep, session: SchedulerChange,
             technician_id: Annotated[int, Form()], start: Annotated[str, Form()],
             confirm: Annotated[bool, Form()] = False) -> Response:
    """The job page's move form: saved, refused with its reasons, or asked to confirm."""
    from fixahead.web.routes.pages.job_pages import job_page_response

    ctx = web_context(request)
    tz = page_zone(request, session)
    form = MoveForm(technician_id, start, visit_id=visit_id, confirm=confirm)
    try:
        moved, emailed = save_move(conn, session, form, tz=tz, now=ctx.clock(),
                                   ports=ctx.ports)
    except jobmove.MoveRefused as exc:
        return job_page_response(request, conn, session, visit_id=visit_id, error=str(exc),
                                 status=409)
    except jobmove.NeedsConfirmation as exc:
        return job_page_response(request, conn, session, visit_id=visit_id, status=409,
                                 confirm={"technician_id": technician_id, "start": start,
                                          "warnings": exc.warnings})
    note = _summary(conn, moved, emailed, tz)
    return RedirectResponse(f"/jobs/{visit_id}?" + urlencode({"done": note}), status_code=303)


@router.get("/board/presence")
def board_presence(request: Request, conn: ConnDep, session: SchedulerPage,
                   day: Annotated[date, Query()], days: Annotated[int, Query(ge=1, le=7)] = 1,
                   visit_id: int | None = None, incident_id: str | None = None
                   ) -> dict[str, Any]:
    """The customer's P(home) per hour of each shown day (the band under a row while
    dragging): `{"start": epoch of the first day's local midnight, "p": [...]}`."""
    tz = page_zone(request, session)
    customer = jobmove.customer_of(conn, visit_id=visit_id, incident_id=incident_id)
    start = datetime.combine(day, datetime.min.time(), ZoneInfo(tz))
    hours = int((datetime.combine(day + timedelta(days=days), datetime.min.time(),
                                  ZoneInfo(tz)) - start).total_seconds() // 3600)
    p = None if customer is None else jobmove.presence(
        conn, customer, start, hours, now=web_context(request).clock(),
        ports=web_context(request).ports)
    return {"start": int(start.timestamp()), "p": p}
