"""PostgreSQL adapter for technicians and visits: load calendars, hold, confirm, release.

Functions take an autocommit connection and open their own transactions.

Holding a slot locks the technician's row, re-checks feasibility (travel included) against the
calendar as it is now, and inserts; the `visits_no_double_booking` exclusion constraint is the
last word, so a double booking is impossible even for code that skips the lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import errors

from dispatch.booking import (
    Busy,
    Offer,
    SearchConfig,
    Technician,
    VisitRequest,
    candidates,
    feasible_slots,
    search,
)

DEFAULT_SEARCH = SearchConfig()


@dataclass(frozen=True)
class Proposal:
    """A held visit and the offers kept for "choose another slot"."""

    visit_id: int
    offer: Offer
    offers: tuple[Offer, ...]
    hold_expires_at: datetime


def add_technician(conn: psycopg.Connection, t: Technician, *, email: str = "") -> int:
    """Insert a technician with days off; return its id (the value's id is ignored)."""
    row = conn.execute(
        """INSERT INTO technicians (name, email, skills, home_lat, home_lon, territory, tz,
                                    work_start, work_end, work_days)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (t.name, email, sorted(t.skills), t.lat, t.lon, t.territory, t.tz, t.work_start,
         t.work_end, sorted(t.work_days)),
    ).fetchone()
    assert row is not None
    tid = int(row[0])
    for day in sorted(t.days_off):
        conn.execute("INSERT INTO technician_days_off VALUES (%s, %s) ON CONFLICT DO NOTHING",
                     (tid, day))
    return tid


def load_technicians(conn: psycopg.Connection, *, skill: str | None = None) -> list[Technician]:
    """Active technicians (with the skill, when given) and their days off."""
    rows = conn.execute(
        """SELECT t.id, t.name, t.skills, t.home_lat, t.home_lon, t.territory, t.tz,
                  t.work_start, t.work_end, t.work_days,
                  coalesce(array_agg(d.day) FILTER (WHERE d.day IS NOT NULL), '{}')
           FROM technicians t LEFT JOIN technician_days_off d ON d.technician_id = t.id
           WHERE t.active AND (%(skill)s::text IS NULL OR %(skill)s = ANY (t.skills))
           GROUP BY t.id ORDER BY t.id""",
        {"skill": skill},
    ).fetchall()
    return [Technician(technician_id=r[0], name=r[1], skills=frozenset(r[2]), lat=r[3],
                       lon=r[4], territory=r[5], tz=r[6], work_start=r[7], work_end=r[8],
                       work_days=frozenset(r[9]), days_off=frozenset(r[10])) for r in rows]


def load_busy(conn: psycopg.Connection, technician_ids: Sequence[int], start: datetime,
              end: datetime, *, now: datetime) -> dict[int, list[Busy]]:
    """Booked visits and unexpired holds per technician overlapping [start, end)."""
    rows = conn.execute(
        """SELECT technician_id, starts_at, ends_at, lat, lon FROM visits
           WHERE technician_id = ANY (%s) AND starts_at < %s AND ends_at > %s
             AND (state = 'booked' OR (state = 'held' AND hold_expires_at > %s))
           ORDER BY technician_id, starts_at""",
        (list(technician_ids), end, start, now),
    ).fetchall()
    out: dict[int, list[Busy]] = {}
    for tid, s, e, lat, lon in rows:
        out.setdefault(tid, []).append(Busy(s, e, lat, lon))
    return out


def hold_slot(conn: psycopg.Connection, *, incident_id: str, customer_id: str, offer: Offer,
              req: VisitRequest, technician: Technician, now: datetime, hold_minutes: int,
              config: SearchConfig = DEFAULT_SEARCH) -> int | None:
    """Hold `offer` on the technician's calendar; None when it is no longer free."""
    if offer.start <= now:
        return None
    try:
        with conn.transaction():
            conn.execute("SELECT 1 FROM technicians WHERE id = %s FOR UPDATE",
                         (offer.technician_id,))
            # a hold that expired but was not yet swept must not block a new one
            conn.execute(
                """UPDATE visits SET state = 'released', updated_at = now()
                   WHERE technician_id = %s AND state = 'held' AND hold_expires_at <= %s""",
                (offer.technician_id, now))
            day_start = offer.start - timedelta(hours=24)
            day_end = offer.end + timedelta(hours=24)
            busy = load_busy(conn, [offer.technician_id], day_start, day_end, now=now)
            s = int(offer.start.timestamp())
            slots = feasible_slots(technician, req, busy.get(offer.technician_id, ()),
                                   start_s=s, end_s=s + 86400, config=config)
            if not any(start == s for start, _ in slots):
                return None
            row = conn.execute(
                """INSERT INTO visits (technician_id, incident_id, customer_id, starts_at,
                                       ends_at, state, hold_expires_at, lat, lon, skill, parts,
                                       urgent, p_home, score)
                   VALUES (%s, %s, %s, %s, %s, 'held', %s, %s, %s, %s, %s, %s, %s, %s)
                   RETURNING id""",
                (offer.technician_id, incident_id, customer_id, offer.start, offer.end,
                 now + timedelta(minutes=hold_minutes), req.lat, req.lon, req.skill,
                 list(req.parts), req.urgent, offer.p_home, offer.score),
            ).fetchone()
    except (errors.ExclusionViolation, errors.DeadlockDetected):
        return None
    assert row is not None
    return int(row[0])


def save_offers(conn: psycopg.Connection, incident_id: str, offers: Iterable[Offer]) -> None:
    """Replace the kept offers of an incident."""
    conn.execute("DELETE FROM visit_offers WHERE incident_id = %s", (incident_id,))
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO visit_offers (incident_id, rank, technician_id, starts_at, ends_at,
                                         p_home, score) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            [(incident_id, i, o.technician_id, o.start, o.end, o.p_home, o.score)
             for i, o in enumerate(offers)])


def load_offers(conn: psycopg.Connection, incident_id: str) -> list[Offer]:
    """The kept offers of an incident, best first."""
    rows = conn.execute(
        """SELECT technician_id, starts_at, ends_at, score, p_home FROM visit_offers
           WHERE incident_id = %s ORDER BY rank""", (incident_id,)).fetchall()
    return [Offer(r[0], r[1], r[2], r[3], r[4], 0.0) for r in rows]


def propose_visit(
    conn: psycopg.Connection, *, incident_id: str, customer_id: str, req: VisitRequest,
    p_home: Callable[[datetime], float], now: datetime, hold_minutes: int = 48 * 60,
    config: SearchConfig = DEFAULT_SEARCH,
) -> Proposal | None:
    """Search slots through the database and hold the best one that is still free."""
    techs = candidates(req, load_technicians(conn, skill=req.skill), config)
    by_id = {t.technician_id: t for t in techs}
    busy = load_busy(conn, list(by_id), now, now + timedelta(days=config.days + 1), now=now)
    offers = search(req, techs, busy, p_home, now=now, config=config)
    with conn.transaction():
        save_offers(conn, incident_id, offers)
    for offer in offers:
        vid = hold_slot(conn, incident_id=incident_id, customer_id=customer_id, offer=offer,
                        req=req, technician=by_id[offer.technician_id], now=now,
                        hold_minutes=hold_minutes, config=config)
        if vid is not None:
            return Proposal(vid, offer, tuple(offers), now + timedelta(minutes=hold_minutes))
    return None


def current_visit(conn: psycopg.Connection, incident_id: str) -> tuple[int, str] | None:
    """The incident's newest held or booked visit: (id, state)."""
    row = conn.execute(
        """SELECT id, state FROM visits WHERE incident_id = %s AND state IN ('held', 'booked')
           ORDER BY id DESC LIMIT 1""", (incident_id,)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def choose_offer(conn: psycopg.Connection, *, incident_id: str, rank: int, now: datetime,
                 hold_minutes: int = 48 * 60, book: bool = True,
                 config: SearchConfig = DEFAULT_SEARCH) -> int | None:
    """Move the incident's visit to its kept offer `rank` (booked, or held when `book` is
    false); the new visit id, None if that time is taken or past."""
    row = conn.execute(
        """SELECT id, customer_id, lat, lon, skill, parts, urgent,
                  extract(epoch FROM ends_at - starts_at)::int / 60
           FROM visits WHERE incident_id = %s ORDER BY id DESC LIMIT 1""",
        (incident_id,)).fetchone()
    offers = load_offers(conn, incident_id)
    if row is None or not 0 <= rank < len(offers):
        return None
    _, customer_id, lat, lon, skill, parts, urgent, minutes = row
    offer = offers[rank]
    techs = {t.technician_id: t for t in load_technicians(conn)}
    if offer.technician_id not in techs:
        return None
    req = VisitRequest(skill=skill, minutes=minutes, lat=lat, lon=lon, urgent=urgent,
                       parts=tuple(parts))
    try:
        with conn.transaction():
            conn.execute(
                """UPDATE visits SET state = 'released', updated_at = now()
                   WHERE incident_id = %s AND state IN ('held', 'booked')""", (incident_id,))
            vid = hold_slot(conn, incident_id=incident_id, customer_id=customer_id, offer=offer,
                            req=req, technician=techs[offer.technician_id], now=now,
                            hold_minutes=hold_minutes, config=config)
            if vid is None:
                raise _Taken  # roll the release back: the customer keeps the old slot
            if book:  # the customer picked this time: that is their confirmation
                conn.execute("UPDATE visits SET state = 'booked', hold_expires_at = NULL "
                             "WHERE id = %s", (vid,))
    except _Taken:
        return None
    return vid


class _Taken(Exception):
    pass


def confirm_visit(conn: psycopg.Connection, visit_id: int, *, now: datetime) -> str:
    """Book a held visit: 'booked', 'already_booked', or why not ('expired', 'cancelled', ...)."""
    with conn.transaction():
        row = conn.execute("SELECT state, hold_expires_at FROM visits WHERE id = %s FOR UPDATE",
                           (visit_id,)).fetchone()
        if row is None:
            return "unknown"
        state, expires = row
        if state == "booked":
            return "already_booked"
        if state == "held" and expires is not None and expires > now:
            conn.execute("UPDATE visits SET state = 'booked', hold_expires_at = NULL, "
                         "updated_at = now() WHERE id = %s", (visit_id,))
            return "booked"
        if state == "held":
            conn.execute("UPDATE visits SET state = 'released', updated_at = now() "
                         "WHERE id = %s", (visit_id,))
            return "expired"
        return str(state)


def cancel_visit(conn: psycopg.Connection, visit_id: int) -> str:
    """Cancel a held or booked visit: 'cancelled', or the state it already had."""
    with conn.transaction():
        row = conn.execute(
            """UPDATE visits SET state = 'cancelled', updated_at = now()
               WHERE id = %s AND state IN ('held', 'booked') RETURNING id""",
            (visit_id,)).fetchone()
        if row is not None:
            return "cancelled"
        state = conn.execute("SELECT state FROM visits WHERE id = %s", (visit_id,)).fetchone()
        return "unknown" if state is None else str(state[0])


def expire_holds(conn: psycopg.Connection, *, now: datetime) -> int:
    """Release every hold past its expiry; return how many."""
    with conn.transaction():
        cur = conn.execute(
            """UPDATE visits SET state = 'released', updated_at = now()
               WHERE state = 'held' AND hold_expires_at <= %s""", (now,))
        return cur.rowcount
