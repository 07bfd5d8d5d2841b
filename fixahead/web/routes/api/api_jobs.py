"""Jobs API: list with filters and a cursor, one job, move, dispatch, start, finish."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request

from dispatch import jobactions, jobmove
from dispatch import queries as dispatch_queries
from dispatch.ports import Ports
from fixahead.web import fleetstore
from fixahead.web.api_schemas import JobOut, JobPage, MoveIn, OutcomeIn
from fixahead.web.customer_changes import tell_customer
from fixahead.web.deps import ConnDep, SchedulerDep, ViewerDep
from fixahead.wiring import dispatch_ports

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
MAX_ID = 2**62
JobId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _now(request: Request) -> datetime:
    ctx = getattr(request.app.state, "web", None)
    return ctx.clock() if ctx is not None else datetime.now(UTC)


def _ports(request: Request) -> Ports:
    ctx = getattr(request.app.state, "web", None)
    return ctx.ports if ctx is not None else dispatch_ports()


def _cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit() or int(cursor) > MAX_ID:
        raise HTTPException(422, "cursor must be a value of next_cursor from a previous page")
    return int(cursor)


@router.get("")
def list_jobs(conn: ConnDep, _: ViewerDep,
              state: Literal["held", "booked", "released", "cancelled", "done"] | None = None,
              technician_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
              incident_id: str | None = None, urgent: bool | None = None,
              starts_from: Annotated[datetime | None, Query(alias="from")] = None,
              starts_until: Annotated[datetime | None, Query(alias="until")] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100,
              cursor: str | None = None) -> JobPage:
    """Jobs in id order, filtered; `from`/`until` bound the start time."""
    if (starts_from and starts_from.tzinfo is None) or (starts_until and
                                                        starts_until.tzinfo is None):
        raise HTTPException(422, "from and until need a UTC offset, e.g. 2026-11-23T08:00Z")
    rows = dispatch_queries.jobs(conn, after=_cursor(cursor), limit=limit + 1, state=state,
                                 technician_id=technician_id, incident_id=incident_id,
                                 urgent=urgent, starts_from=starts_from,
                                 starts_until=starts_until)
    more = len(rows) > limit
    rows = rows[:limit]
    return JobPage(items=[JobOut(**r) for r in rows],
                   next_cursor=str(rows[-1]["id"]) if more else None)


def _job(conn: ConnDep, job_id: int) -> JobOut:
    row = dispatch_queries.job(conn, job_id)
    if row is None:
        raise HTTPException(404, f"there is no job {job_id}")
    return JobOut(**row)




@router.get("/{job_id}")
def get_job(job_id: JobId, conn: ConnDep, _: ViewerDep) -> JobOut:
    """One job."""
    return _job(conn, job_id)


@router.post("/{job_id}/move", responses={409: {"description": "refused (why), or warnings "
                                                               "to confirm"}})
def move_job(job_id: JobId, body: MoveIn, request: Request, conn: ConnDep,
             who: SchedulerDep) -> JobOut:
    """Move a held or booked job (checked: skills, hours, days off, overlaps, travel, not in
    the past); 409 with the reasons, or with warnings to confirm; the customer is emailed."""
    if body.starts_at.tzinfo is None:
        raise HTTPException(422, "starts_at needs a UTC offset")
    _job(conn, job_id)
    now = _now(request)
    try:
        with conn.transaction():
            moved = jobmove.move_job(conn, job_id, technician_id=body.technician_id,
                                     starts_at=body.starts_at, actor=who.actor, now=now,
                                     ports=_ports(request), confirm=body.confirm)
            tell_customer(conn, moved.incident_id, now=now)
    except jobmove.MoveRefused as exc:
        raise HTTPException(409, str(exc)) from None
    except jobmove.NeedsConfirmation as exc:
        raise HTTPException(409, "confirm to go ahead (\"confirm\": true): "
                                 + "; ".join(exc.warnings)) from None
    return _job(conn, job_id)


@router.post("/{job_id}/start")
def start_job(job_id: JobId, request: Request, conn: ConnDep, who: SchedulerDep) -> JobOut:
    """The technician is on site (booked jobs only)."""
    try:
        jobactions.start_job(conn, job_id, actor=who.actor, now=_now(request))
    except jobactions.ActionRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return _job(conn, job_id)


@router.post("/{job_id}/finish")
def finish_job(job_id: JobId, body: OutcomeIn, request: Request, conn: ConnDep,
               who: SchedulerDep) -> JobOut:
    """Complete with an outcome (what was really wrong), or cannot-complete with a reason."""
    try:
        jobactions.finish_job(conn, job_id, outcome=body.outcome, actual_code=body.actual_code,
                              reason=body.reason, actor=who.actor, now=_now(request))
    except jobactions.ActionRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return _job(conn, job_id)


@router.post("/dispatch/{incident_id}", status_code=201)
def dispatch_job(incident_id: str, request: Request, conn: ConnDep,
                 who: SchedulerDep) -> JobOut:
    """Book an incident's job: confirm its hold, or find a slot and book it."""
    try:
        visit_id = jobactions.dispatch_job(conn, incident_id, actor=who.actor,
                                           now=_now(request), ports=_ports(request))
    except jobactions.ActionRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return _job(conn, visit_id)


precision_router = APIRouter(prefix="/api/v1/rules", tags=["rules"])


@precision_router.get("/precision")
def rule_precision(conn: ConnDep, _: ViewerDep) -> list[dict[str, object]]:
    """Per rule (or error-code source) and fault: visits confirmed, judged, and precision,
    from the outcomes technicians recorded; beside them, the customers' "I fixed it" and
    "still broken" answers."""
    return fleetstore.rule_precision(conn)
