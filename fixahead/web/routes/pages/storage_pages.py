"""The storage page: what the database runs on and the health of TimescaleDB's compression,
retention and rollup-refresh jobs, with the runs the platform drove itself when the background
workers failed (what `fixahead db jobs` prints)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fixahead.storage import db_now, list_jobs, storage_name
from fixahead.web.deps import ConnDep
from fixahead.web.pagedeps import ViewerPage
from fixahead.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/storage", response_class=HTMLResponse)
def storage_page(request: Request, conn: ConnDep, session: ViewerPage) -> HTMLResponse:
    """Storage and its policy jobs: last success, background failures, the platform's runs."""
    now = db_now(conn)
    jobs = [(j, j.healthy(now), j.due(now)) for j in list_jobs(conn)]
    return render(request, "storage.html", session, storage=storage_name(conn), jobs=jobs,
                  unhealthy=sum(not ok for _, ok, _ in jobs))
