"""Device data API: a device's telemetry (by metric name, time window, keyset pages) and its
incidents (any role: no personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from fixahead.web.api_schemas import IncidentOut, IncidentPage
from fixahead.web.deps import ConnDep, ViewerDep
from ingest import queries as ingest_queries
from rules import queries

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


class Reading(BaseModel):
    """One telemetry sample."""

    time: datetime
    metric: str
    value: float | None


class ReadingPage(BaseModel):
    """Samples oldest first; pass `next_cursor` as `cursor` (a time) for more."""

    items: list[Reading]
    next_cursor: datetime | None


def _device(conn: ConnDep, device_id: str) -> tuple[int, str]:
    row = conn.execute("SELECT id, model_id FROM devices WHERE device_id = %s",
                       (device_id,)).fetchone()
    if row is None:
        raise HTTPException(404, f"there is no device {device_id!r}")
    return int(row[0]), str(row[1])


@router.get("/{device_id}/telemetry")
def telemetry(device_id: str, conn: ConnDep, _: ViewerDep, metric: str | None = None,
              since: Annotated[datetime | None, Query(alias="from")] = None,
              until: datetime | None = None, cursor: datetime | None = None,
              limit: Annotated[int, Query(ge=20, le=10_000)] = 1000) -> ReadingPage:
    """Readings of a device, optionally of one metric (by name) and in [from, until)."""
    for t in (since, until, cursor):
        if t is not None and t.tzinfo is None:
            raise HTTPException(422, "times need a UTC offset, e.g. 2026-11-23T08:00Z")
    key, model = _device(conn, device_id)
    names: dict[int, str] = dict(conn.execute(
        "SELECT metric_id, name FROM model_metrics WHERE model_id = %s", (model,)).fetchall())
    wanted = None
    if metric is not None:
        wanted = next((i for i, n in names.items() if n == metric), None)
        if wanted is None:
            raise HTTPException(422, f"{model} has no metric {metric!r}; it has "
                                + ", ".join(sorted(names.values())))
    rows = ingest_queries.readings(conn, key, metric=wanted, since=since, until=until,
                                   after=cursor, limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        # end the page on a whole timestamp, so "strictly after the cursor" skips nothing
        cut = rows[limit][0]
        rows = [r for r in rows[:limit] if r[0] < cut]
        next_cursor = rows[-1][0] if rows else None
    items = [Reading(time=t, metric=names.get(m, str(m)), value=v if v == v else None)
             for t, m, v in rows]
    return ReadingPage(items=items, next_cursor=next_cursor)


@router.get("/{device_id}/incidents")
def device_incidents(device_id: str, conn: ConnDep, _: ViewerDep,
                     limit: Annotated[int, Query(ge=1, le=500)] = 50) -> IncidentPage:
    """The device's incidents, newest first (the newest `limit`)."""
    _device(conn, device_id)
    rows = queries.list_incidents(conn, device_id=device_id, limit=limit)
    return IncidentPage(items=[IncidentOut(**r) for r in rows], next_cursor=None)
