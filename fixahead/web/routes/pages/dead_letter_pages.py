"""The dead-letters page: what ingest refused, by reason, device and time, with the payload
(escaped text, or hex when binary) for schedulers and admins."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from devices.protocol import Reason
from fixahead.web.context import web_context
from fixahead.web.deadletterview import newest_first_cursor, payload_view, utc_or_naive_as
from fixahead.web.deps import ConnDep
from fixahead.web.pagedeps import PageError, ViewerPage
from fixahead.web.templating import render
from ingest import count_dead_letters, list_dead_letters

router = APIRouter(include_in_schema=False)
PAGE = 50


def _when(value: str, name: str, tz: str) -> datetime | None:
    if not value:
        return None
    try:
        return utc_or_naive_as(datetime.fromisoformat(value), ZoneInfo(tz))
    except ValueError:
        raise PageError(422, f"{name} must be a date and time such as 2026-05-01T08:00") \
            from None


@router.get("/dead-letters", response_class=HTMLResponse)
def dead_letters_page(request: Request, conn: ConnDep, session: ViewerPage, reason: str = "",
                      device: str = "", since: str = "", until: str = "",
                      before: int | None = None) -> HTMLResponse:
    """Dead letters, newest first, 50 a page, with counts per reason."""
    tz = web_context(request).tz
    start, end = _when(since, "From", tz), _when(until, "Until", tz)
    device = device.strip()
    letters = list_dead_letters(conn, reason=reason or None, device_id=device or None,
                                since=start, until=end, before_id=before, limit=PAGE)
    counts = count_dead_letters(conn, device_id=device or None, since=start, until=end)
    cursor = newest_first_cursor(letters, PAGE)
    filters = {"reason": reason, "device": device, "since": since, "until": until}
    rows = [(d, payload_view(d.payload, d.payload_bytes)) for d in letters]
    return render(request, "dead_letters.html", session, rows=rows, counts=counts,
                  reasons=sorted({*(r.value for r in Reason), *counts}), **filters,
                  more=urlencode({**filters, "before": cursor}) if cursor else "",
                  query=lambda **kw: urlencode({**filters, **kw}),
                  personal=session.user.may("scheduler"))
