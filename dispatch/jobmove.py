"""Moving a job to a technician and time, or placing a job that has no visit (adapter).

Each change is checked first (`movecheck`: the past, skill, working hours and days off,
overlaps, travel to the neighbouring jobs), refused with its reasons, or held back until the
scheduler confirms the warnings (quiet hours, low P(home)). The target technician's row is
locked, so two moves onto one calendar are checked one after the other; the
`visits_no_double_booking` exclusion constraint stays the last word.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import errors

from devices.audit import audit
from dispatch import adapter
from dispatch.availability_store import p_home_for
from dispatch.booking import SearchConfig, Technician
from dispatch.movecheck import Placed, Verdict, Wanted, check_move
from dispatch.ports import Ports

SPEED_KMH = SearchConfig().speed_kmh  # the booking search's urban average speed


class MoveRefused(Exception):
    """A move that breaks a rule, or that is not possible; the message says why."""


class NeedsConfirmation(Exception):
    """A move that is allowed but deserves a second look: the warnings, nothing changed."""

    def __init__(self, warnings: tuple[str, ...]) -> None:
        super().__init__("; ".join(warnings))
        self.warnings = warnings


@dataclass(frozen=True)
class Moved:
    """A saved move or placement."""

    visit_id: int
    incident_id: str
    technician_id: int
    starts_at: datetime
    ends_at: datetime
    warnings: tuple[str, ...]
    travel_before_min: int | None
    travel_after_min: int | None


def technician(conn: psycopg.Connection, technician_id: int, *, lock: bool = False
               ) -> Technician | None:
    """One active technician with days off (its row locked until the transaction ends)."""
    row = conn.execute(
        f"""SELECT t.id, t.name, t.skills, t.home_lat, t.home_lon, t.territory, t.tz,
                   t.work_start, t.work_end, t.work_days,
                   ARRAY(SELECT day FROM technician_days_off WHERE technician_id = t.id)
            FROM technicians t WHERE t.id = %s AND t.active
            {'FOR UPDATE OF t' if lock else ''}""", (technician_id,)).fetchone()
    if row is None:
        return None
    return Technician(row[0], row[1], frozenset(row[2]), row[3], row[4], row[5], row[6],
                      row[7], row[8], frozenset(row[9]), frozenset(row[10]))


def calendar(conn: psycopg.Connection, technician_id: int, start: datetime, end: datetime, *,
             now: datetime, leave_out: int | None = None) -> list[Placed]:
    """The technician's live jobs near [start, end), named by job number and fault."""
    rows = conn.execute(
        """SELECT v.starts_at, v.ends_at, v.lat, v.lon,
                  concat('job ', coalesce('J-' || n.number, v.id::text))
           FROM visits v LEFT JOIN job_numbers n ON n.incident_id = v.incident_id
           WHERE v.technician_id = %s AND v.id IS DISTINCT FROM %s
             AND v.starts_at < %s AND v.ends_at > %s
             AND (v.state = 'booked' OR (v.state = 'held' AND v.hold_expires_at > %s))
           ORDER BY v.starts_at""",
        (technician_id, leave_out, end + timedelta(hours=12), start - timedelta(hours=12),
         now)).fetchall()
    return [Placed(*r) for r in rows]


def _wanted(conn: psycopg.Connection, customer_id: str, skill: str, minutes: int, lat: float,
            lon: float) -> tuple[Wanted, adapter.CustomerInfo | None]:
    c = adapter.load_customer(conn, customer_id=customer_id) if customer_id else None
    if c is None:
        return Wanted(skill, minutes, lat, lon), None
    return Wanted(skill, minutes, lat, lon, c.tz, c.quiet_start, c.quiet_end), c


def check(conn: psycopg.Connection, t: Technician, w: Wanted,
          customer: adapter.CustomerInfo | None, starts_at: datetime, *, now: datetime,
          tz: str, ports: Ports, leave_out: int | None = None) -> Verdict:
    """The verdict on placing `w` at `starts_at` on `t`'s calendar as it is now."""
    ends_at = starts_at + timedelta(minutes=w.minutes)
    p_home = (p_home_for(conn, customer, now=now, ports=ports)(starts_at)
              if customer is not None else None)
    return check_move(t, w, starts_at, calendar(conn, t.technician_id, starts_at, ends_at,
                                                 now=now, leave_out=leave_out),
                      now=now, tz=tz, speed_kmh=SPEED_KMH, p_home=p_home)


def decide(verdict: Verdict, confirm: bool) -> None:
    """Raise MoveRefused for refusals, NeedsConfirmation for unconfirmed warnings."""
    if verdict.errors:
        raise MoveRefused(". ".join(verdict.errors) + ". Nothing was changed.")
    if verdict.warnings and not confirm:
        raise NeedsConfirmation(verdict.warnings)


def _visit(conn: psycopg.Connection, visit_id: int) -> tuple[Any, ...]:
    row = conn.execute(
        """SELECT technician_id, starts_at, ends_at, state, skill, customer_id, lat, lon,
                  incident_id FROM visits WHERE id = %s FOR UPDATE""", (visit_id,)).fetchone()
    if row is None:
        raise MoveRefused(f"there is no job {visit_id}")
    if row[3] not in ("held", "booked"):
        raise MoveRefused(f"this job is {row[3]}; only held or booked jobs move")
    return tuple(row)


def move_job(conn: psycopg.Connection, visit_id: int, *, technician_id: int,
             starts_at: datetime, actor: str, now: datetime, ports: Ports, tz: str = "UTC",
             confirm: bool = False) -> Moved:
    """Move a held or booked visit to a technician and start, keeping its length (checked,
    audited; warnings need `confirm`). Runs in its own transaction (or the caller's)."""
    try:
        with conn.transaction():
            old_tech, old_start, old_end, _, skill, customer_id, lat, lon, incident_id = \
                _visit(conn, visit_id)
            t = technician(conn, technician_id, lock=True)
            if t is None:
                raise MoveRefused(f"there is no active technician {technician_id}")
            minutes = int((old_end - old_start).total_seconds() // 60)
            w, customer = _wanted(conn, customer_id, skill, minutes, lat, lon)
            verdict = check(conn, t, w, customer, starts_at, now=now, tz=tz, ports=ports,
                            leave_out=visit_id)
            decide(verdict, confirm)
            ends_at = starts_at + (old_end - old_start)
            conn.execute("UPDATE visits SET technician_id = %s, starts_at = %s, ends_at = %s, "
                         "updated_at = now() WHERE id = %s",
                         (technician_id, starts_at, ends_at, visit_id))
            audit(conn, actor=actor, action="job.move", subject_type="visit",
                  subject_id=str(visit_id),
                  detail={"from": {"technician_id": old_tech, "starts_at": old_start.isoformat()},
                          "to": {"technician_id": technician_id,
                                 "starts_at": starts_at.isoformat()},
                          "incident_id": incident_id, "warnings": list(verdict.warnings)})
    except (errors.ExclusionViolation, errors.DeadlockDetected):
        raise MoveRefused("Another change took that time on this calendar just now. "
                          "Nothing was changed.") from None
    return Moved(visit_id, incident_id, technician_id, starts_at, ends_at, verdict.warnings,
                 verdict.travel_before_min, verdict.travel_after_min)


def presence(conn: psycopg.Connection, customer_id: str, start: datetime, hours: int, *,
             now: datetime, ports: Ports) -> list[float] | None:
    """The customer's predicted P(home) for each hour from `start` (None: no such customer)."""
    customer = adapter.load_customer(conn, customer_id=customer_id) if customer_id else None
    if customer is None:
        return None
    at = p_home_for(conn, customer, now=now, ports=ports)
    return [round(at(start + timedelta(hours=h, minutes=30)), 2) for h in range(hours)]


def customer_of(conn: psycopg.Connection, *, visit_id: int | None = None,
                incident_id: str | None = None) -> str | None:
    """The customer of a visit, or of an incident's latest decision."""
    if visit_id is not None:
        row = conn.execute("SELECT customer_id FROM visits WHERE id = %s",
                           (visit_id,)).fetchone()
    else:
        row = conn.execute("SELECT customer_id FROM dispatch_decisions WHERE incident_id = %s "
                           "AND customer_id <> '' ORDER BY id DESC LIMIT 1",
                           (incident_id,)).fetchone()
    return None if row is None else str(row[0])
