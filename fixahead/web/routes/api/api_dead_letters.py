"""Dead letters API: the messages ingest refused, filtered by reason, device and time.

Viewers get when, which device and topic, the reason and the size; the detail and the
payload (free bytes from a device, see `fixahead.web.deadletterview`) need the scheduler role.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel

from fixahead.web.deadletterview import as_json, newest_first_cursor, utc_or_naive_as
from fixahead.web.deps import ConnDep, ViewerDep
from ingest import count_dead_letters, get_dead_letter, list_dead_letters

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"])
MAX_ID = 2**62
ReasonQ = Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$",
                                      description="e.g. bad_json, control_character")]
DeviceQ = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
TimeQ = Annotated[datetime | None, Query(description="ISO 8601; without a zone: UTC")]


class DeadLetterOut(BaseModel):
    """One refused message. `detail`, `payload_preview` (escaped UTF-8 text, null when the
    payload is binary) and `payload_hex` (the first 256 bytes) are null for viewers."""

    id: int
    received_at: datetime
    topic: str
    device_id: str | None
    reason: str
    payload_bytes: int
    kept_bytes: int
    payload_kind: str
    detail: str | None
    payload_preview: str | None
    payload_hex: str | None


class DeadLetterPage(BaseModel):
    """Newest first; pass `next_cursor` back as `before_id`; counts per reason over the
    device and time filters."""

    items: list[DeadLetterOut]
    next_cursor: int | None
    counts: dict[str, int]


@router.get("")
def list_letters(conn: ConnDep, who: ViewerDep, reason: ReasonQ = None, device_id: DeviceQ = None,
                 since: TimeQ = None, until: TimeQ = None,
                 before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> DeadLetterPage:
    """Dead letters matching the filters, newest first."""
    since, until = utc_or_naive_as(since, UTC), utc_or_naive_as(until, UTC)
    letters = list_dead_letters(conn, reason=reason, device_id=device_id, since=since,
                                until=until, before_id=before_id, limit=limit)
    personal = who.may("scheduler")
    return DeadLetterPage(
        items=[DeadLetterOut(**as_json(d, personal=personal)) for d in letters],
        next_cursor=newest_first_cursor(letters, limit),
        counts=count_dead_letters(conn, device_id=device_id, since=since, until=until))


@router.get("/{letter_id}")
def get_letter(letter_id: Annotated[int, Path(ge=1, le=MAX_ID)], conn: ConnDep,
               who: ViewerDep) -> DeadLetterOut:
    """One dead letter."""
    letter = get_dead_letter(conn, letter_id)
    if letter is None:
        raise HTTPException(404, f"there is no dead letter {letter_id}")
    return DeadLetterOut(**as_json(letter, personal=who.may("scheduler")))
