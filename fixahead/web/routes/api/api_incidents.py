"""Incidents API: list with filters and a cursor, one incident, acknowledge/resolve/snooze."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from fixahead.web.api_schemas import IncidentOut, IncidentPage, SnoozeIn
from fixahead.web.deps import ConnDep, SchedulerDep, ViewerDep
from rules import commandstore, queries
from rules.commands import Refused

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
StateFilter = Literal["open", "updated", "acknowledged", "resolved", "auto_cleared"]


def _now(request: Request) -> datetime:
    ctx = getattr(request.app.state, "web", None)
    return ctx.clock() if ctx is not None else datetime.now(UTC)


def _parse_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    t, sep, key = cursor.partition("|")
    try:
        at = datetime.fromisoformat(t)
    except ValueError:
        at = None
    if not sep or at is None or at.tzinfo is None:
        raise HTTPException(422, "cursor must be a value of next_cursor from a previous page")
    return at, key


@router.get("")
def list_incidents(conn: ConnDep, _: ViewerDep,
                   state: Annotated[list[StateFilter] | None, Query()] = None,
                   device_id: str | None = None, fault: str | None = None,
                   model_id: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50,
                   cursor: str | None = None) -> IncidentPage:
    """Incidents newest first; `state` may repeat (e.g. state=open&state=updated)."""
    rows = queries.list_incidents(conn, states=list(state) if state else None,
                                  device_id=device_id, fault=fault, model_id=model_id,
                                  before=_parse_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = f"{rows[-1]['opened_at'].isoformat()}|{rows[-1]['key']}" if more else None
    return IncidentPage(items=[IncidentOut(**r) for r in rows], next_cursor=nxt)


def _get(conn: ConnDep, key: str) -> dict[str, Any]:
    row = queries.get_incident(conn, key)
    if row is None:
        raise HTTPException(404, f"there is no incident {key!r}")
    return row


@router.get("/{key}")
def get_incident(key: str, conn: ConnDep, _: ViewerDep) -> dict[str, Any]:
    """One incident with its triggering readings."""
    return _get(conn, key)


def _act(conn: ConnDep, key: str, command: str, request: Request, response: Response,
         actor: str, hours: float | None = None) -> IncidentOut:
    """Submit a person's command; 202 when a rule worker has it queued but not applied yet."""
    _get(conn, key)
    try:
        done = commandstore.submit(conn, key, command, now=_now(request), actor=actor,
                                   hours=hours)
    except Refused as exc:
        raise HTTPException(409, str(exc)) from None
    if done == "pending":
        response.status_code = 202
    row = _get(conn, key)
    return IncidentOut(**{k: v for k, v in row.items() if k in IncidentOut.model_fields})


@router.post("/{key}/acknowledge")
def acknowledge(key: str, request: Request, response: Response, conn: ConnDep,
                who: SchedulerDep) -> IncidentOut:
    """A person has seen it."""
    return _act(conn, key, "acknowledge", request, response, who.actor)


@router.post("/{key}/resolve")
def resolve(key: str, request: Request, response: Response, conn: ConnDep,
            who: SchedulerDep) -> IncidentOut:
    """Close it."""
    return _act(conn, key, "resolve", request, response, who.actor)


@router.post("/{key}/snooze")
def snooze(key: str, body: SnoozeIn, request: Request, response: Response, conn: ConnDep,
           who: SchedulerDep) -> IncidentOut:
    """Mute new evidence of its fault on its device for some hours."""
    return _act(conn, key, "snooze", request, response, who.actor, hours=body.hours)
