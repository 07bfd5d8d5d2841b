"""The job page and its actions: dispatch, start, complete, cannot complete."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import psycopg
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dispatch import jobactions
from fixahead.web import boardstore
from fixahead.web.context import web_context
from fixahead.web.customer_changes import tell_customer
from fixahead.web.deps import ConnDep
from fixahead.web.jobdetail import job_detail, visit_incident
from fixahead.web.pagedeps import PageError, SchedulerChange, ViewerPage
from fixahead.web.templating import page_zone, render
from fixahead.web.users import Session
from rules import queries

router = APIRouter(include_in_schema=False)


def job_page_response(request: Request, conn: psycopg.Connection, session: Session, *,
                      visit_id: int | None = None, incident_id: str | None = None,
                      error: str = "", done: str = "", status: int = 200,
                      confirm: dict[str, Any] | None = None) -> HTMLResponse:
    """Render the job page of a visit or an incident, with a message."""
    if incident_id is None:
        incident_id = visit_incident(conn, visit_id) if visit_id is not None else None
        if incident_id is None:
            raise PageError(404, f"There is no job {visit_id}.")
    now = web_context(request).clock()
    job = job_detail(conn, incident_id, visit_id=visit_id, now=now,
                     tz=page_zone(request, session))
    if job is None:
        raise PageError(404, f"There is no job for incident {incident_id}.")
    techs = boardstore.technicians(conn)
    return render(request, "job.html", session, status=status, job=job, techs=techs,
                  error=error, done=done, outcomes=jobactions.OUTCOMES, confirm=confirm, now=now,
                  reasons=jobactions.CANNOT_REASONS)


@router.get("/jobs/{visit_id}", response_class=HTMLResponse)
def job_page(request: Request, visit_id: int, conn: ConnDep, session: ViewerPage,
             done: str = "") -> HTMLResponse:
    """A visit's job page."""
    return job_page_response(request, conn, session, visit_id=visit_id, done=done)


@router.get("/jobs/incident/{incident_id:path}", response_class=HTMLResponse)
def incident_job_page(request: Request, incident_id: str, conn: ConnDep, session: ViewerPage,
                      done: str = "") -> HTMLResponse:
    """The job of an incident that has no live visit (yet)."""
    return job_page_response(request, conn, session, incident_id=incident_id, done=done)


def _after(visit_id: int | None, incident_id: str, done: str) -> RedirectResponse:
    target = f"/jobs/{visit_id}" if visit_id else f"/jobs/incident/{incident_id}"
    return RedirectResponse(target + "?" + urlencode({"done": done}), status_code=303)


@router.post("/jobs/incident/{incident_id:path}/dispatch")
def dispatch(request: Request, incident_id: str, conn: ConnDep,
             session: SchedulerChange) -> Response:
    """Book the job (confirm the hold, or find and book a slot)."""
    now = web_context(request).clock()
    try:
        vid = jobactions.dispatch_job(conn, incident_id, actor=session.user.actor, now=now,
                                      ports=web_context(request).ports)
    except jobactions.ActionRefused as exc:
        return job_page_response(request, conn, session, incident_id=incident_id,
                                 error=str(exc), status=409)
    emailed = tell_customer(conn, incident_id, now=now)
    return _after(vid, incident_id, "dispatched" + ("; the customer will get an email"
                                                    if emailed is not None else ""))


@router.post("/jobs/incident/{incident_id:path}/diagnostics")
def ask_diagnostics(request: Request, incident_id: str, conn: ConnDep,
                    session: SchedulerChange, kind: Annotated[str, Form()]) -> Response:
    """Ask the job's appliance for a snapshot or a self-test (sent when it is online)."""
    from devices.diagnostics_store import UnknownDevice, create_request

    device = queries.device_of(conn, incident_id)
    row = None if device is None else conn.execute(
        "SELECT device_id FROM devices WHERE id = %s", (device,)).fetchone()
    if row is None:
        return job_page_response(request, conn, session, incident_id=incident_id,
                                 error="This job has no appliance to ask.", status=409)
    try:
        create_request(conn, device_id=row[0], kind=kind, now=web_context(request).clock(),
                       actor=session.user.actor, incident_id=incident_id)
    except (UnknownDevice, ValueError) as exc:
        return job_page_response(request, conn, session, incident_id=incident_id,
                                 error=str(exc), status=409)
    return _after(None, incident_id, "diagnostics asked for")


@router.post("/jobs/{visit_id}/start")
def start(request: Request, visit_id: int, conn: ConnDep, session: SchedulerChange) -> Response:
    """The technician started work."""
    try:
        jobactions.start_job(conn, visit_id, actor=session.user.actor,
                             now=web_context(request).clock())
    except jobactions.ActionRefused as exc:
        return job_page_response(request, conn, session, visit_id=visit_id, error=str(exc),
                                 status=409)
    return _after(visit_id, "", "started")


@router.post("/jobs/{visit_id}/finish")
def finish(request: Request, visit_id: int, conn: ConnDep, session: SchedulerChange,
           outcome: Annotated[str, Form()], actual_code: Annotated[str, Form()] = "",
           reason: Annotated[str, Form()] = "") -> Response:
    """Complete with an outcome, or record why it could not be completed."""
    try:
        jobactions.finish_job(conn, visit_id, outcome=outcome, actual_code=actual_code,
                              reason=reason, actor=session.user.actor,
                              now=web_context(request).clock())
    except jobactions.ActionRefused as exc:
        return job_page_response(request, conn, session, visit_id=visit_id, error=str(exc),
                                 status=409)
    return _after(visit_id, "", "cannot complete: recorded" if outcome == "cannot_complete"
                  else "completed")
