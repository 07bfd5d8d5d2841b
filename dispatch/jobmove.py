"""Moving a job (a held or booked visit) to another technician or time (adapter).

The `visits_no_double_booking` exclusion constraint decides; a refusal names the job in the way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import errors

from devices.audit import audit


class MoveRefused(Exception):
    """A move that would double-book, or that is not possible; the message says why."""


def move_job(conn: psycopg.Connection, visit_id: int, *, technician_id: int,
             starts_at: datetime, actor: str, now: datetime) -> dict[str, Any]:
    """Move a held or booked visit to another technician and/or start, keeping its length.

    The exclusion constraint on `visits` decides; a refusal names the job in the way.
    """
    try:
        with conn.transaction():
            row = conn.execute(
                """SELECT technician_id, starts_at, ends_at, state, skill FROM visits
                   WHERE id = %s FOR UPDATE""", (visit_id,)).fetchone()
            if row is None:
                raise MoveRefused(f"there is no job {visit_id}")
            old_tech, old_start, old_end, state, skill = row
            if state not in ("held", "booked"):
                raise MoveRefused(f"job {visit_id} is {state}; only held or booked jobs move")
            tech = conn.execute("SELECT name, skills, active FROM technicians WHERE id = %s",
                                (technician_id,)).fetchone()
            if tech is None or not tech[2]:
                raise MoveRefused(f"there is no active technician {technician_id}")
            ends_at = starts_at + (old_end - old_start)
            conn.execute("UPDATE visits SET technician_id = %s, starts_at = %s, ends_at = %s, "
                         "updated_at = now() WHERE id = %s",
                         (technician_id, starts_at, ends_at, visit_id))
            audit(conn, actor=actor, action="job.move", subject_type="visit",
                  subject_id=str(visit_id),
                  detail={"from": {"technician_id": old_tech, "starts_at": old_start.isoformat()},
                          "to": {"technician_id": technician_id,
                                 "starts_at": starts_at.isoformat()}})
    except (errors.ExclusionViolation, errors.DeadlockDetected):
        clash = conn.execute(
            """SELECT id, starts_at, ends_at FROM visits
               WHERE technician_id = %s AND id <> %s AND state IN ('held', 'booked')
                 AND tstzrange(starts_at, ends_at) && tstzrange(%s, %s)
               ORDER BY starts_at LIMIT 1""",
            (technician_id, visit_id, starts_at, starts_at + (old_end - old_start))).fetchone()
        what = (f"job {clash[0]} ({clash[1].astimezone(UTC):%Y-%m-%d %H:%M}-"
                f"{clash[2].astimezone(UTC):%H:%M} UTC)" if clash else "another job")
        name = tech[0] if tech else f"technician {technician_id}"
        raise MoveRefused(f"{name} is already booked then: {what} overlaps. "
                          "Nothing was changed.") from None
    warn = "" if skill in tech[1] else f"note: {tech[0]} does not list the skill {skill!r}"
    return {"visit_id": visit_id, "technician_id": technician_id, "starts_at": starts_at,
            "ends_at": ends_at, "warning": warn}
