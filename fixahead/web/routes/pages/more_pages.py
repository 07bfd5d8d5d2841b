"""Device page, incident list (acknowledge, resolve, snooze), outbox and fleet overview."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from psycopg.rows import dict_row

from dispatch import queries as dispatch_queries
from fixahead.web import fleetstore
from fixahead.web.context import web_context
from fixahead.web.deps import ConnDep
from fixahead.web.jobdetail import chart
from fixahead.web.pagedeps import PageError, SchedulerChange, ViewerPage
from fixahead.web.templating import render
from ingest import queries as ingest_queries
from rules import commandstore, queries
from rules.commands import COMMANDS, Refused

router = APIRouter(include_in_schema=False)
STATE_SETS = {"open": ["open", "updated"], "acknowledged": ["acknowledged"],
              "active": list(queries.OPEN), "closed": ["resolved", "auto_cleared"],
              "all": None}


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, conn: ConnDep, session: ViewerPage, state: str = "active",
                   fault: str = "", model: str = "", before: str = "",
                   done: str = "") -> HTMLResponse:
    """Incidents, newest first, 50 a page."""
    cursor = None
    if before:
        t, _, key = before.partition("|")
        try:
            cursor = (datetime.fromisoformat(t), key)
        except ValueError:
            raise PageError(422, "the page cursor is malformed") from None
    rows = queries.list_incidents(conn, states=STATE_SETS.get(state),
                                        fault=fault or None, model_id=model or None,
                                        before=cursor, limit=50)
    more = ""
    if len(rows) == 50:
        last = rows[-1]
        more = urlencode({"state": state, "fault": fault, "model": model,
                          "before": f"{last['opened_at'].isoformat()}|{last['key']}"})
    return render(request, "incidents.html", session, rows=rows, state=state, fault=fault,
                  model=model, more=more, done=done, states=list(STATE_SETS))


@router.post("/incidents/action")
def incident_action(request: Request, conn: ConnDep, session: SchedulerChange,
                    key: Annotated[str, Form()], action: Annotated[str, Form()],
                    hours: Annotated[float, Form()] = 24.0) -> Response:
    """Acknowledge, resolve or snooze one incident."""
    now, actor = web_context(request).clock(), session.user.actor
    if action not in COMMANDS:
        raise PageError(422, f"unknown action {action!r}")
    try:
        done = commandstore.submit(conn, key, action, now=now, actor=actor,
                                   hours=hours if action == "snooze" else None)
    except Refused as exc:
        raise PageError(409, str(exc)) from None
    if done == "pending":
        action += " (queued: the rule engine applies it shortly)"
    return RedirectResponse("/incidents?" + urlencode({"done": f"{key}: {action}"}),
                            status_code=303)


@router.get("/devices/{device_id}", response_class=HTMLResponse)
def device_page(request: Request, device_id: str, conn: ConnDep, session: ViewerPage,
                days: int = 7) -> HTMLResponse:
    """A device: telemetry history, error codes it reported, its incidents."""
    with conn.cursor(row_factory=dict_row) as cur:
        device = cur.execute("""SELECT d.*, m.name AS model_name FROM devices d
                                JOIN models m USING (model_id) WHERE d.device_id = %s""",
                             (device_id,)).fetchone()
        if device is None:
            raise PageError(404, f"There is no device {device_id}.")
    errors = ingest_queries.error_events(conn, device["id"], limit=50)
    now = web_context(request).clock()
    days = max(1, min(days, 60))
    last = ingest_queries.last_reading_at(conn, device["id"])
    end = min(now, last) if last else now
    svg = chart(conn, device["id"], device["model_id"], [], end, now=end,
                title=f"Telemetry of {device_id}, last {days} days",
                before=timedelta(days=days), mark=False, most=4)
    incidents = queries.list_incidents(conn, device_id=device_id, limit=50)
    return render(request, "device.html", session, device=device, chart=svg, errors=errors,
                  incidents=incidents, days=days)


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, conn: ConnDep, session: ViewerPage,
                state: str = "") -> HTMLResponse:
    """Emails with their state; what the embedded SMTP sink received."""
    rows = dispatch_queries.outbox(conn, state=state, limit=200)
    sink = web_context(request).sink
    received = []
    if sink is not None and session.user.may("scheduler"):
        for n, m in enumerate(sink.messages()):
            msg = m.parsed()
            received.append({"n": n, "to": ", ".join(m.rcpt_tos), "subject": msg["Subject"],
                             "message_id": m.message_id})
    return render(request, "outbox.html", session, rows=rows, state=state, received=received,
                  has_sink=sink is not None)


@router.get("/outbox/{outbox_id}", response_class=HTMLResponse)
def outbox_email(request: Request, outbox_id: int, conn: ConnDep,
                 session: ViewerPage) -> HTMLResponse:
    """One email: its state and its content (schedulers and admins see personal data)."""
    row = dispatch_queries.outbox_email(conn, outbox_id)
    if row is None:
        raise PageError(404, f"There is no email {outbox_id}.")
    content = json.dumps(row["payload"], indent=2, ensure_ascii=False, default=str) \
        if session.user.may("scheduler") else "(content needs the scheduler role)"
    return render(request, "email.html", session, row=row, content=content)


@router.get("/outbox/received/{n}", response_class=HTMLResponse)
def received_email(request: Request, n: int, session: ViewerPage) -> HTMLResponse:
    """A message the embedded SMTP sink received, as text."""
    sink = web_context(request).sink
    messages = sink.messages() if sink is not None else []
    if not session.user.may("scheduler"):
        raise PageError(403, "Received emails need the scheduler role.")
    if not 0 <= n < len(messages):
        raise PageError(404, "There is no such received email.")
    msg = messages[n].parsed()
    body = msg.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return render(request, "received.html", session, msg=msg, text=text,
                  raw=messages[n])


@router.get("/fleet", response_class=HTMLResponse)
def fleet_page(request: Request, conn: ConnDep, session: ViewerPage,
               days: int = 14) -> HTMLResponse:
    """Devices online per model; incidents by model and fault per day."""
    days = max(1, min(days, 90))
    now = web_context(request).clock()
    return render(request, "fleet.html", session, days=days,
                  **fleetstore.overview(conn, now=now, days=days))
