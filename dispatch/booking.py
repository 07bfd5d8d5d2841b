"""Slot search for technician visits: feasible slots, scored, the best first (pure).

A slot is feasible when the technician has the skill (and the territory, if the visit names one),
works that day and hour, and can travel from the previous job (or home base) and on to the next
one in time. Travel time comes from great-circle distance and an average speed. A non-urgent
visit is offered the earliest feasible slot unless another is clearly likelier to find someone
home, by the rule of `availability_pick.best_window` (the margin grows as the household's days
of evidence shrink; among slots about as likely as the likeliest, the earliest); an urgent one
the earliest slot with someone likely home within a day. Alternatives are ranked by a score of
P(someone home), waiting and the travel they add, and kept apart. Times are epoch seconds
inside, aware datetimes at the surface.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.availability_pick import FULL_DAYS, MARGIN, TIE, best_window
from dispatch.geo import haversine_km, travel_s


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

    @property
    def span_s(self) -> tuple[int, int]:
        """(start, end) in epoch seconds."""
        return int(self.start.timestamp()), int(self.end.timestamp())


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
    urgent_min_p_home: float = 0.6  # an urgent visit waits for a slot this likely home...
    urgent_home_wait_h: float = 24.0  # ...for up to this long, else takes the earliest
    alternatives: int = 4
    max_technicians: int = 30  # the nearest qualified technicians are searched
    spacing_minutes: int = 120  # offered starts at least this far apart
    # a non-urgent visit keeps the earliest slot unless another is likelier home by `margin`
    # with FULL_DAYS of evidence, more with fewer `evidence_days` (the household model's days
    # of usage history); slots within `tie` of the likeliest count as equally likely
    margin: float = MARGIN
    tie: float = TIE
    evidence_days: float = FULL_DAYS
    # P(the household's routine is being home all day): more margin (availability_pick)
    homebody: float = 0.0

    def for_household(self, *, days: float, homebody: float) -> SearchConfig:
        """This search for one household: its model's days of usage history and its
        P(routine is being home all day) set the margin for leaving the earliest slot."""
        return replace(self, evidence_days=days, homebody=homebody)


def not_before(config: SearchConfig, *, now: datetime, start: datetime | None) -> SearchConfig:
    """The search config that proposes non-urgent visits only from `start` on (for example
    after a household's likely return), searching as many days after it as before."""
    if start is None or start <= now:
        return config
    lead = max(config.lead_minutes, -(-int((start - now).total_seconds()) // 60))
    return replace(config, lead_minutes=lead, days=config.days + -(-lead // 1440))


@dataclass(frozen=True)
class Offer:
    """A feasible slot with its score and why."""

    technician_id: int
    start: datetime
    end: datetime
    score: float
    p_home: float
    travel_minutes: float


def qualified(t: Technician, req: VisitRequest, config: SearchConfig) -> bool:
    """Whether a technician can take the visit at all (skill, territory, distance)."""
    if req.skill not in t.skills:
        return False
    if req.territory and t.territory and req.territory != t.territory:
        return False
    return haversine_km(t.lat, t.lon, req.lat, req.lon) <= config.max_travel_km


def candidates(req: VisitRequest, technicians: Sequence[Technician],
               config: SearchConfig) -> list[Technician]:
    """Qualified technicians, nearest home base first, at most `max_technicians`."""
    near = sorted((haversine_km(t.lat, t.lon, req.lat, req.lon), t.technician_id, t)
                  for t in technicians if qualified(t, req, config))
    return [t for _, _, t in near[:config.max_technicians]]


def _ts(d: datetime) -> int:
    return int(d.timestamp())


def _at(s: int) -> datetime:
    return datetime.fromtimestamp(s, UTC)


def _work_windows(t: Technician, start_s: int, end_s: int) -> list[tuple[int, int]]:
    return _windows(t.tz, t.work_start, t.work_end, t.work_days, t.days_off, start_s, end_s)


@functools.lru_cache(maxsize=4096)
def _windows(tz: str, work_start: time, work_end: time, work_days: frozenset[int],
             days_off: frozenset[date], start_s: int, end_s: int) -> list[tuple[int, int]]:
    zone = ZoneInfo(tz)
    first = _at(start_s).astimezone(zone).date()
    last = _at(end_s).astimezone(zone).date()
    out = []
    day = first
    while day <= last:
        if day.weekday() in work_days and day not in days_off:
            ws = _ts(datetime.combine(day, work_start).replace(tzinfo=zone))
            we = _ts(datetime.combine(day, work_end).replace(tzinfo=zone))
            if we > start_s and ws < end_s:
                out.append((ws, we))
        day += timedelta(days=1)
    return out


def gaps(
    t: Technician, req: VisitRequest, busy: Sequence[Busy], *, start_s: int, end_s: int,
    config: SearchConfig,
) -> list[tuple[int, int, int]]:
    """Feasible start ranges on this calendar: (first start, last start, added travel s),
    starts on the `step_minutes` grid."""
    dur = req.minutes * 60
    step = config.step_minutes * 60
    jobs = sorted(((*b.span_s, b.lat, b.lon) for b in busy), key=lambda j: j[0])
    cache: dict[tuple[float, float], int] = {}

    def to_customer(lat: float, lon: float) -> int:
        key = (lat, lon)
        if key not in cache:
            cache[key] = travel_s(lat, lon, req.lat, req.lon, config.speed_kmh)
        return cache[key]

    out: list[tuple[int, int, int]] = []
    first_job = 0
    for ws, we in _work_windows(t, start_s, end_s):
        prev_end, plat, plon = ws, t.lat, t.lon
        while first_job < len(jobs) and jobs[first_job][1] <= ws:
            first_job += 1
        day_jobs = []
        for j in jobs[first_job:]:
            if j[0] >= we:
                break
            day_jobs.append(j)
        for nxt in [*day_jobs, None]:
            gap_end = min(end_s, we if nxt is None else min(we, nxt[0]))
            to_s = to_customer(plat, plon)
            if nxt is None:
                back_s = direct = 0
            else:
                back_s = to_customer(nxt[2], nxt[3])
                direct = travel_s(plat, plon, nxt[2], nxt[3], config.speed_kmh)
            first = -(-max(prev_end + to_s, start_s) // step) * step  # align to the grid
            last = (gap_end - dur - back_s) // step * step
            if last >= first:
                out.append((first, last, to_s + back_s - direct))
            if nxt is not None:
                prev_end, plat, plon = max(prev_end, nxt[1]), nxt[2], nxt[3]
    return out


def feasible_slots(
    t: Technician, req: VisitRequest, busy: Sequence[Busy], *, start_s: int, end_s: int,
    config: SearchConfig,
) -> list[tuple[int, int]]:
    """Every feasible (start_s, added_travel_s) on this technician's calendar in the range."""
    step = config.step_minutes * 60
    return [(s, added) for first, last, added in gaps(t, req, busy, start_s=start_s,
                                                      end_s=end_s, config=config)
            for s in range(first, last + 1, step)]


def _window_p(p_hour: np.ndarray, starts: np.ndarray, hour0: int, dur: int) -> np.ndarray:
    """P(home) over a visit: the lowest hourly value the window touches."""
    h0 = starts // 3600 - hour0
    h1 = (starts + dur - 1) // 3600 - hour0
    p: np.ndarray = p_hour[h0]
    for k in range(1, int((h1 - h0).max(initial=0)) + 1):
        inside = h0 + k <= h1
        p = np.where(inside, np.minimum(p, p_hour[np.minimum(h0 + k, p_hour.size - 1)]), p)
    return p


def search(
    req: VisitRequest,
    technicians: Sequence[Technician],
    busy: Mapping[int, Sequence[Busy]],
    p_home: Callable[[datetime], float],
    *,
    now: datetime,
    config: SearchConfig = SearchConfig(),
) -> list[Offer]:
    """The slot to book first, then up to `config.alternatives` alternatives spread apart.

    Non-urgent: the earliest feasible slot, unless another is clearly likelier home
    (`best_window` with the config's margin, tie and evidence days). Urgent: the earliest
    slot, waiting up to a day for one when someone is likely home."""
    lead = 0 if req.urgent else config.lead_minutes * 60
    start_s = _ts(now) + lead
    end_s = _ts(now) + config.days * 86400
    step = config.step_minutes * 60
    dur = req.minutes * 60
    ranges: list[tuple[int, int, int, int]] = []
    for t in candidates(req, technicians, config):
        for first, last, added in gaps(t, req, busy.get(t.technician_id, ()), start_s=start_s,
                                       end_s=end_s, config=config):
            ranges.append((first, (last - first) // step + 1, added, t.technician_id))
    if not ranges:
        return []
    r = np.asarray(ranges, dtype=np.int64)
    counts = r[:, 1]
    which = np.repeat(np.arange(len(r)), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    starts = r[which, 0] + offset * step
    added = r[which, 2]
    tech = r[which, 3]
    hour0 = start_s // 3600
    hours = (end_s + dur) // 3600 - hour0 + 2
    p_hour = np.array([p_home(_at((hour0 + h) * 3600)) for h in range(hours)])
    p = _window_p(p_hour, starts, hour0, dur)
    wait = (starts - start_s).astype(np.float64)
    if req.urgent:
        # the earliest slot, but one when someone is likely home if there is one within a
        # day: a technician at an empty house does not stop a leak
        unlikely = p < config.urgent_min_p_home
        score = -config.w_delay_urgent * (wait / 3600.0 + unlikely * config.urgent_home_wait_h)
        order = np.lexsort((tech, starts, -score))
    else:
        score = (config.w_home * p - config.w_travel * added / 3600.0
                 - config.w_delay * wait / 86400.0)
        order = _earliest_unless_likelier(starts, added, tech, p, score, config)
    return _pick(order, score, starts, tech, added, p, req, config)


def _earliest_unless_likelier(starts: np.ndarray, added: np.ndarray, tech: np.ndarray,
                              p: np.ndarray, score: np.ndarray,
                              config: SearchConfig) -> np.ndarray:
    """Slot indices to offer in order: first the one `best_window` picks among all feasible
    slots in time order (at the same start, the least added travel, then the technician),
    each slot's P(home) less what its wait costs, then the others by score."""
    by_time = np.lexsort((tech, added, starts))
    # waiting costs what the score says it does, in units of P(home): a slot a week later
    # must be likelier by that much more (w_delay / w_home a day) besides the margin
    waited = (starts - starts.min()) / 86400.0 * (config.w_delay / config.w_home)
    first = by_time[best_window((p - waited)[by_time], config.margin,
                                days=config.evidence_days, tie=config.tie,
                                homebody=config.homebody)]
    rest = np.lexsort((tech, starts, -score))
    return np.concatenate(([first], rest[rest != first]))


def _pick(order: np.ndarray, score: np.ndarray, starts: np.ndarray, tech: np.ndarray,
          added: np.ndarray, p: np.ndarray, req: VisitRequest,
          config: SearchConfig) -> list[Offer]:
    chosen: list[Offer] = []
    taken: list[int] = []
    spacing = config.spacing_minutes * 60
    for i in order:
        s = int(starts[i])
        if any(abs(s - o) < spacing for o in taken):
            continue
        taken.append(s)
        chosen.append(Offer(int(tech[i]), _at(s), _at(s + req.minutes * 60), float(score[i]),
                            float(p[i]), float(added[i]) / 60.0))
        if len(chosen) > config.alternatives:
            break
    return chosen
