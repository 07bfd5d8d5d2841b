"""Remote diagnostics API: ask a device for a snapshot or a self-test, and read the answers.

Scheduler or admin only; every request made is audited (`diagnostics.request`). The command
itself is published by the diagnostics link (`devices.diagnostics_mqtt`) once the device is
online; until then the request waits, visibly, until it expires.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from devices import diagnostics_store as store
from devices.diagnostics import Request, findings, waiting_reason
from dispatch import appointments
from fixahead.web.deps import ConnDep, SchedulerDep

router = APIRouter(prefix="/api/v1/diagnostics", tags=["diagnostics"])
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class DiagnosticsIn(BaseModel):
    """What to ask which device, valid for how long, and what it belongs to."""

    device_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    kind: Literal["diagnostics_snapshot", "self_test"] = "diagnostics_snapshot"
    ttl_s: int = Field(default=1800, ge=10, le=7 * 86400)
    incident_id: str | None = Field(default=None, max_length=200)
    visit_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class DiagnosticsOut(BaseModel):
    """A diagnostics request, its state in words, and the device's answer once there."""

    request_id: str
    device_id: str
    kind: str
    state: str
    waiting: str
    created_at: datetime
    expires_at: datetime
    sent_at: datetime | None
    acked_at: datetime | None
    answered_at: datetime | None
    status: str | None
    result: dict[str, Any] | None
    findings: list[str]
    incident_id: str | None
    visit_id: int | None


def _out(req: Request, online: bool | None) -> DiagnosticsOut:
    return DiagnosticsOut(request_id=req.request_id, device_id=req.device_id,
                          kind=req.kind.value, state=req.state.value,
                          waiting=waiting_reason(req, online=online),
                          created_at=req.created_at, expires_at=req.expires_at,
                          sent_at=req.sent_at, acked_at=req.acked_at,
                          answered_at=req.answered_at, status=req.status, result=req.result,
                          findings=findings(req),
                          incident_id=req.incident_id, visit_id=req.visit_id)


def _incident(conn: psycopg.Connection, incident_id: str | None,
              visit_id: int | None) -> str | None:
    """The incident a request is for: as given, else the visit's (dispatch knows it)."""
    if incident_id is not None or visit_id is None:
        return incident_id
    return appointments.incident_of(conn, visit_id)


@router.post("/requests", status_code=201)
def create_request(body: DiagnosticsIn, conn: ConnDep, who: SchedulerDep) -> DiagnosticsOut:
    """Ask a device for a diagnostics snapshot or a self-test (audited)."""
    try:
        req = store.create_request(conn, device_id=body.device_id, kind=body.kind,
                                   now=datetime.now(UTC), actor=who.actor,
                                   ttl=timedelta(seconds=body.ttl_s),
                                   incident_id=_incident(conn, body.incident_id, body.visit_id),
                                   visit_id=body.visit_id)
    except store.UnknownDevice as exc:
        raise HTTPException(404, str(exc)) from None
    return _out(req, store.device_online(conn, body.device_id))


@router.get("/requests")
def list_requests(conn: ConnDep, _: SchedulerDep, device_id: str | None = None,
                  incident_id: str | None = None,
                  visit_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[DiagnosticsOut]:
    """Requests of a device, an incident or a visit (job), newest first."""
    if device_id is None and incident_id is None and visit_id is None:
        raise HTTPException(422, "give device_id, incident_id or visit_id")
    found = store.requests_for(conn, device_id=device_id, incident_id=incident_id,
                               visit_id=visit_id, limit=limit)
    online = {d: store.device_online(conn, d) for d in {r.device_id for r in found}}
    return [_out(r, online[r.device_id]) for r in found]


@router.get("/requests/{request_id}")
def get_request(request_id: RequestId, conn: ConnDep, _: SchedulerDep) -> DiagnosticsOut:
    """One request."""
    req = store.load_request(conn, request_id)
    if req is None:
        raise HTTPException(404, f"there is no diagnostics request {request_id}")
    return _out(req, store.device_online(conn, req.device_id))
