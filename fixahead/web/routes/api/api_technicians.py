"""Technicians API: list with filters and a cursor, one technician, their jobs of a day."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from psycopg.rows import dict_row

from fixahead.web.api_schemas import TechnicianOut, TechnicianPage
from fixahead.web.deps import ConnDep, ViewerDep
from fixahead.web.routes.api.api_jobs import MAX_ID, _cursor

router = APIRouter(prefix="/api/v1/technicians", tags=["technicians"])
_SELECT = """SELECT id, name, skills, territory, tz, to_char(work_start, 'HH24:MI') AS work_start,
                    to_char(work_end, 'HH24:MI') AS work_end, work_days::int[] AS work_days,
                    active FROM technicians"""


def _out(row: dict[str, Any]) -> TechnicianOut:
    return TechnicianOut(**row)


@router.get("")
def list_technicians(conn: ConnDep, _: ViewerDep, skill: str | None = None,
                     territory: str | None = None, active: bool | None = True,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100,
                     cursor: str | None = None) -> TechnicianPage:
    """Technicians in id order; by default only active ones."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _SELECT + """ WHERE id > %(after)s
                 AND (%(skill)s::text IS NULL OR %(skill)s = ANY (skills))
                 AND (%(terr)s::text IS NULL OR territory = %(terr)s)
                 AND (%(active)s::bool IS NULL OR active = %(active)s)
               ORDER BY id LIMIT %(limit)s""",
            {"after": _cursor(cursor), "skill": skill, "terr": territory, "active": active,
             "limit": limit + 1}).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return TechnicianPage(items=[_out(r) for r in rows],
                          next_cursor=str(rows[-1]["id"]) if more else None)


@router.get("/{technician_id}")
def get_technician(technician_id: Annotated[int, Path(ge=1, le=MAX_ID)], conn: ConnDep,
                   _: ViewerDep) -> TechnicianOut:
    """One technician."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE id = %s", (technician_id,)).fetchone()
    if row is None:
        raise HTTPException(404, f"there is no technician {technician_id}")
    return _out(row)
