"""Technicians API: list with filters and a cursor, one technician, their jobs of a day."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from dispatch import queries as dispatch_queries
from fixahead.web.api_schemas import TechnicianOut, TechnicianPage
from fixahead.web.deps import ConnDep, ViewerDep
from fixahead.web.routes.api.api_jobs import MAX_ID, _cursor

router = APIRouter(prefix="/api/v1/technicians", tags=["technicians"])


def _out(row: dict[str, Any]) -> TechnicianOut:
    return TechnicianOut(**row)


@router.get("")
def list_technicians(conn: ConnDep, _: ViewerDep, skill: str | None = None,
                     territory: str | None = None, active: bool | None = True,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100,
                     cursor: str | None = None) -> TechnicianPage:
    """Technicians in id order; by default only active ones."""
    rows = dispatch_queries.technicians(conn, after=_cursor(cursor), limit=limit + 1,
                                        skill=skill, territory=territory, active=active)
    more = len(rows) > limit
    rows = rows[:limit]
    return TechnicianPage(items=[_out(r) for r in rows],
                          next_cursor=str(rows[-1]["id"]) if more else None)


@router.get("/{technician_id}")
def get_technician(technician_id: Annotated[int, Path(ge=1, le=MAX_ID)], conn: ConnDep,
                   _: ViewerDep) -> TechnicianOut:
    """One technician."""
    row = dispatch_queries.technician(conn, technician_id)
    if row is None:
        raise HTTPException(404, f"there is no technician {technician_id}")
    return _out(row)
