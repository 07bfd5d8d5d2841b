"""`fixahead bench dispatch`: decisions and bookings through PostgreSQL, and visit home rate.

200 technicians over a 14-day horizon with a partly filled calendar. Synthetic households have
a weekly routine (ground truth) from which usage events are drawn; availability is learned from
those events. Every visit request is searched and held through the database; in the same run
and on the same calendar, a first-free-slot baseline is measured for time and for how often the
household would really be home.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

import numpy as np
import psycopg

from dispatch.availability import WEEK_S, Availability, predict
from dispatch.availability_store import save_availability
from dispatch.booking import (
    SearchConfig,
    Technician,
    VisitRequest,
    candidates,
    first_free_slot,
    search,
)
from dispatch.booking_store import add_technician, load_busy, load_technicians, propose_visit
from dispatch.policy import decide
from dispatch.service import handle_incident
from dispatch.types import CustomerInfo, FaultInfo, IncidentInfo
from fixahead.bench.common import bench_database, percentile, result
from fixahead.settings import Settings

TZ = "Europe/Berlin"
SKILLS = ("washer", "dryer", "dishwasher", "fridge", "heat_pump", "water_heater")
CENTER = (52.52, 13.40)
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in Berlin
FAULTS = (FaultInfo("E21", "Water does not drain", customer_fixable=True, skill="washer"),
          FaultInfo("E50", "Motor fault", skill="washer", visit_minutes=90),
          FaultInfo("F12", "Compressor fault", skill="fridge", visit_minutes=120),
          FaultInfo("E90", "Water leak", urgent=True, skill="dishwasher"))


def _point(rng: random.Random, km: float = 25.0) -> tuple[float, float]:
    return (CENTER[0] + rng.uniform(-km, km) / 111.0, CENTER[1] + rng.uniform(-km, km) / 68.0)


def routine(kind: str, rng: random.Random) -> np.ndarray:
    """Ground-truth weekly presence (bool[168], local hours) for a household archetype."""
    home = np.ones(168, dtype=bool)
    home_days = set(rng.sample(range(5), rng.choice((1, 2)))) if kind == "hybrid" else set()
    for day in range(7):
        away: tuple[int, int] | None = None
        if kind in ("office", "hybrid") and day < 5 and day not in home_days:
            away = (rng.choice((7, 8)), rng.choice((16, 17, 18)))
        elif kind == "shift" and day < 5:
            away = (6, 14)
        elif kind == "home":
            start = rng.randrange(9, 16)
            away = (start, start + 2)
        elif day >= 5 and rng.random() < 0.5:
            away = (10, 15)
        if away:
            home[day * 24 + away[0]: day * 24 + away[1]] = False
    return home


def usage_times(home: np.ndarray, rng: np.random.Generator, weeks: int = 8) -> np.ndarray:
    """Usage events (epoch s) drawn from a routine: while home and awake, ~0.8 events/hour."""
    out = []
    monday = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp()) - 3600  # Mon 00:00 Berlin
    for w in range(1, weeks + 1):
        for h in range(168):
            if home[h] and 7 <= h % 24 < 23 and rng.random() > 0.1:
                for _ in range(rng.poisson(0.8)):
                    out.append(monday - w * WEEK_S + h * 3600 + int(rng.integers(0, 3600)))
    return np.asarray(out, dtype=np.int64)


def really_home(home: np.ndarray, start: datetime, end: datetime, rng: random.Random) -> bool:
    """Whether the household is home for the whole visit (routine, and no errand that day)."""
    a = Availability(home.astype(np.float64), np.ones(168), TZ, 0)
    t = start
    while t < end:
        if a.at(t) < 0.5:
            return False
        t += timedelta(minutes=30)
    return rng.random() > 0.05


def _setup(conn: psycopg.Connection, technicians: int, rng: random.Random) -> None:
    for i in range(technicians):
        lat, lon = _point(rng)
        days_off = {(NOW + timedelta(days=rng.randrange(14))).date()} if rng.random() < 0.3 \
            else set()
        add_technician(conn, Technician(0, f"tech-{i}", frozenset(rng.sample(SKILLS, 3)), lat,
                                        lon, tz=TZ, work_start=dtime(8), work_end=dtime(17),
                                        days_off=frozenset(days_off)))
    rows = []
    for t in load_technicians(conn):
        for day in range(14):
            start = NOW + timedelta(days=day, hours=2)  # 09:00 Berlin
            for slot in range(4):  # about a third of each day is already booked
                if rng.random() < 0.35:
                    s = start + timedelta(hours=2 * slot)
                    lat, lon = _point(rng)
                    rows.append((t.technician_id, f"pre-{len(rows)}", s, s + timedelta(hours=1),
                                 lat, lon))
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO visits (technician_id, incident_id, starts_at, ends_at, state, lat,
                                   lon, skill) VALUES (%s, %s, %s, %s, 'booked', %s, %s, 'x')""",
            rows)


def _customers(n: int, rng: random.Random, nrng: np.random.Generator
               ) -> list[tuple[CustomerInfo, np.ndarray, Availability]]:
    out = []
    for i in range(n):
        kind = rng.choice(("office", "office", "hybrid", "hybrid", "shift", "home"))
        home = routine(kind, rng)
        lat, lon = _point(rng)
        c = CustomerInfo(f"cus-{i}", f"c{i}@example.org", f"Customer {i}", "en", TZ,
                         consent_email=True, consent_availability=True, lat=lat, lon=lon)
        a = predict(usage_times(home, nrng), tz=TZ, now=NOW, consent=True)
        out.append((c, home, a))
    return out


def run(settings: Settings, *, quick: bool) -> dict[str, Any]:
    """Run the dispatch benchmark and return the standard result document."""
    technicians, households = 200, (60 if quick else 300)
    rng, nrng = random.Random(11), np.random.default_rng(11)
    cfg = SearchConfig(days=14)
    ours_ms: list[float] = []
    base_ms: list[float] = []
    ours_home = base_home = oracle_home = booked = 0
    with bench_database(settings) as url, psycopg.connect(url, autocommit=True) as conn:
        _setup(conn, technicians, rng)
        people = _customers(households, rng, nrng)
        for c, _, a in people:
            save_availability(conn, c.customer_id, a, now=NOW)
        for i, (c, home, a) in enumerate(people):
            req = VisitRequest(skill=rng.choice(SKILLS), minutes=rng.choice((60, 90)),
                               lat=c.lat, lon=c.lon)
            t0 = time.perf_counter()
            techs = candidates(req, load_technicians(conn, skill=req.skill), cfg)
            busy = load_busy(conn, [t.technician_id for t in techs], NOW,
                             NOW + timedelta(days=15), now=NOW)
            base = first_free_slot(req, techs, busy, now=NOW, config=cfg)
            base_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            p = propose_visit(conn, incident_id=f"inc-{i}", customer_id=c.customer_id, req=req,
                              p_home=a.at, now=NOW, config=cfg)
            ours_ms.append((time.perf_counter() - t0) * 1000)
            truth = Availability(home.astype(np.float64), np.ones(168), TZ, 0)
            best = search(req, techs, busy, truth.at, now=NOW, config=cfg)
            if p is None or base is None or not best:
                continue
            booked += 1
            errand = rng.random()  # the same day's errands for all three choices
            ours_home += really_home(home, p.offer.start, p.offer.end, random.Random(errand))
            base_home += really_home(home, base.start, base.end, random.Random(errand))
            oracle_home += really_home(home, best[0].start, best[0].end, random.Random(errand))
        # decisions: policy + hold + outbox through the database, a realistic mix of faults
        n_dec = 100 if quick else 400
        t0 = time.perf_counter()
        for i in range(n_dec):
            c, _, a = people[i % len(people)]
            inc = IncidentInfo(f"dec-{i}", f"d{i}", "WM-800", FAULTS[i % len(FAULTS)], NOW)
            handle_incident(conn, inc, c, now=NOW + timedelta(minutes=i), p_home=a.at)
        decisions_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pure = 20000
    for i in range(pure):
        c, _, _ = people[i % len(people)]
        decide(IncidentInfo(f"p{i}", "d", "m", FAULTS[i % 4], NOW), c, now=NOW)
    pure_s = time.perf_counter() - t0
    ours_rate = ours_home / booked if booked else float("nan")
    base_rate = base_home / booked if booked else float("nan")
    metrics = {"decisions_per_s": n_dec / decisions_s,
               "p99_booking_ms": percentile(ours_ms, 99), "p50_booking_ms": percentile(ours_ms, 50),
               "home_rate": ours_rate, "policy_decisions_per_s": pure / pure_s,
               "bookings": booked}
    baselines = {"first_free_p99_ms": percentile(base_ms, 99),
                 "first_free_p50_ms": percentile(base_ms, 50), "first_free_home_rate": base_rate,
                 # an upper bound, not a baseline: the same search told the true routine
                 "oracle_home_rate": oracle_home / booked if booked else float("nan")}
    ratios = {"home_rate_points_over_first_free": 100 * (ours_rate - base_rate),
              "p99_booking_vs_first_free": metrics["p99_booking_ms"] / baselines[
                  "first_free_p99_ms"]}
    config = {"technicians": technicians, "horizon_days": cfg.days, "households": households,
              "decisions": n_dec, "quick": quick, "preexisting_fill": 0.35 * 4 / 9,
              "truth": "synthetic weekly routines (office/hybrid/shift/home), 5% errands"}
    return result("dispatch", metrics, baselines, ratios, config)
