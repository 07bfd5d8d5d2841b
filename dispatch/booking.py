"""Slot search for technician visits: feasible slots, scored, the best first (pure).

A slot is feasible when the technician has the skill (and the territory, if the visit names one),
works that day and hour, and can travel from the previous job (or home base) and on to the next
one in time. Travel time comes from great-circle distance and an average speed. Slots are scored
by P(someone home), urgency (earlier is better) and the travel they add. Times are epoch seconds
inside, aware datetimes at the surface.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EARTH_KM = 6371.0


@dataclass(frozen=True)
class Technician:
    """A field technician: skills, home base, territory, working hours and days off."""

    technician_id: int
    name: str
    skills: frozenset[str]
    lat: float
    lon: float
    territory: str = ""
    tz: str = "UTC"
    work_start: time = time(8, 0)
    work_end: time = time(17, 0)
    work_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    days_off: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Busy:
    """A job already on a technician's calendar (held or booked), with where it is."""

    start: datetime
    end: datetime
    lat: float
    lon: float


@dataclass(frozen=True)
class VisitRequest:
    """What a visit needs and where it is."""

    skill: str
    minutes: int
    lat: float
    lon: float
    urgent: bool = False
    territory: str = ""
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchConfig:
    """Tunables of the slot search."""

    days: int = 14
    step_minutes: int = 30
    lead_minutes: int = 60  # no visit starts sooner than this after `now` (urgent: 0)
    speed_kmh: float = 40.0
    max_travel_km: float = 60.0
    w_home: float = 3.0  # per unit of P(home)
    w_travel: float = 0.5  # per hour of added travel
    w_delay: float = 0.05  # per day of waiting
    w_delay_urgent: float = 2.0  # per hour of waiting, for urgent visits
    alternatives: int = 4
    spacing_minutes: int = 120  # offered starts at least this far apart


@dataclass(frozen=True)
class Offer:
    """A feasible slot with its score and why."""

    technician_id: int
    start: datetime
    end: datetime
    score: float
    p_home: float
    travel_minutes: float


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def travel_s(lat1: float, lon1: float, lat2: float, lon2: float, speed_kmh: float) -> int:
    """Travel time in whole seconds at an average speed."""
    return math.ceil(haversine_km(lat1, lon1, lat2, lon2) / speed_kmh * 3600.0)


def qualified(t: Technician, req: VisitRequest, config: SearchConfig) -> bool:
    """Whether a technician can take the visit at all (skill, territory, distance)."""
    if req.skill not in t.skills:
        return False
    if req.territory and t.territory and req.territory != t.territory:
        return False
    return haversine_km(t.lat, t.lon, req.lat, req.lon) <= config.max_travel_km


def _ts(d: datetime) -> int:
    return int(d.timestamp())


def _at(s: int) -> datetime:
    return datetime.fromtimestamp(s, UTC)


def _work_windows(t: Technician, start_s: int, end_s: int) -> list[tuple[int, int]]:
    zone = ZoneInfo(t.tz)
    first = _at(start_s).astimezone(zone).date()
    last = _at(end_s).astimezone(zone).date()
    out = []
    day = first
    while day <= last:
        if day.weekday() in t.work_days and day not in t.days_off:
            ws = _ts(datetime.combine(day, t.work_start).replace(tzinfo=zone))
            we = _ts(datetime.combine(day, t.work_end).replace(tzinfo=zone))
            if we > start_s and ws < end_s:
                out.append((ws, we))
        day += timedelta(days=1)
    return out


Candidate = tuple[int, int, int, int, float]  # technician, start_s, end_s, added travel s, p


def feasible_slots(
    t: Technician, req: VisitRequest, busy: Sequence[Busy], *, start_s: int, end_s: int,
    config: SearchConfig,
) -> list[tuple[int, int]]:
    """Every feasible (start_s, added_travel_s) on this technician's calendar in the range."""
    dur = req.minutes * 60
    step = config.step_minutes * 60
    jobs = sorted(((_ts(b.start), _ts(b.end), b.lat, b.lon) for b in busy), key=lambda j: j[0])
    out: list[tuple[int, int]] = []
    for ws, we in _work_windows(t, start_s, end_s):
        prev_end, plat, plon = ws, t.lat, t.lon
        day_jobs = [j for j in jobs if j[1] > ws and j[0] < we]
        for nxt in [*day_jobs, None]:
            gap_end = min(end_s, we if nxt is None else min(we, nxt[0]))
            to_s = travel_s(plat, plon, req.lat, req.lon, config.speed_kmh)
            back_s = 0 if nxt is None else travel_s(req.lat, req.lon, nxt[2], nxt[3],
                                                    config.speed_kmh)
            direct = 0 if nxt is None else travel_s(plat, plon, nxt[2], nxt[3], config.speed_kmh)
            added = to_s + back_s - direct
            lo = max(prev_end + to_s, start_s)
            s = -(-lo // step) * step  # align to the step grid
            while s + dur + back_s <= gap_end:
                out.append((s, added))
                s += step
            if nxt is not None:
                prev_end, plat, plon = max(prev_end, nxt[1]), nxt[2], nxt[3]
    return out


def search(
    req: VisitRequest,
    technicians: Sequence[Technician],
    busy: Mapping[int, Sequence[Busy]],
    p_home: Callable[[datetime], float],
    *,
    now: datetime,
    config: SearchConfig = SearchConfig(),
) -> list[Offer]:
    """The best slot first, then up to `config.alternatives` alternatives spread apart."""
    lead = 0 if req.urgent else config.lead_minutes * 60
    start_s = _ts(now) + lead
    end_s = _ts(now) + config.days * 86400
    hour0 = start_s // 3600
    p_cache: dict[int, float] = {}

    def p_at(s: int) -> float:
        h = s // 3600 - hour0
        if h not in p_cache:
            p_cache[h] = p_home(_at(s))
        return p_cache[h]

    scored: list[tuple[float, int, int, int, float]] = []
    for t in technicians:
        if not qualified(t, req, config):
            continue
        for s, added in feasible_slots(t, req, busy.get(t.technician_id, ()), start_s=start_s,
                                       end_s=end_s, config=config):
            p = p_at(s)
            wait = s - start_s
            delay = (config.w_delay_urgent * wait / 3600.0 if req.urgent
                     else config.w_delay * wait / 86400.0)
            score = config.w_home * p - config.w_travel * added / 3600.0 - delay
            scored.append((score, s, t.technician_id, added, p))
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    return _pick(scored, req, config)


def _pick(scored: list[tuple[float, int, int, int, float]], req: VisitRequest,
          config: SearchConfig) -> list[Offer]:
    chosen: list[Offer] = []
    starts: list[int] = []
    spacing = config.spacing_minutes * 60
    for score, s, tid, added, p in scored:
        if any(abs(s - o) < spacing for o in starts):
            continue
        starts.append(s)
        chosen.append(Offer(tid, _at(s), _at(s + req.minutes * 60), score, p, added / 60.0))
        if len(chosen) > config.alternatives:
            break
    return chosen


def first_free_slot(
    req: VisitRequest,
    technicians: Sequence[Technician],
    busy: Mapping[int, Sequence[Busy]],
    *,
    now: datetime,
    config: SearchConfig = SearchConfig(),
) -> Offer | None:
    """Baseline: the earliest feasible slot of any qualified technician, ignoring P(home)."""
    lead = 0 if req.urgent else config.lead_minutes * 60
    start_s = _ts(now) + lead
    end_s = _ts(now) + config.days * 86400
    best: tuple[int, int, int] | None = None
    for t in technicians:
        if not qualified(t, req, config):
            continue
        limit = end_s if best is None else min(end_s, best[0] + 1)
        slots = feasible_slots(t, req, busy.get(t.technician_id, ()), start_s=start_s,
                               end_s=limit + req.minutes * 60, config=config)
        if slots and (best is None or slots[0][0] < best[0]):
            best = (slots[0][0], t.technician_id, slots[0][1])
    if best is None:
        return None
    s, tid, added = best
    return Offer(tid, _at(s), _at(s + req.minutes * 60), 0.0, float("nan"), added / 60.0)
