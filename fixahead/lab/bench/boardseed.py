"""A dispatch board's worth of data: technicians around Berlin, customers with names and
towns, and their jobs, for `fixahead bench web` and the board's browser screenshots.

Two sets of 2,000 jobs on the same 200 technicians: ten a day each on `DAY` (the day view's
worst case), and two a day each over the working week that starts on `WEEK` (a week view).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

import psycopg

DAY = date(2026, 11, 24)  # a Tuesday
WEEK = date(2026, 11, 30)  # the Monday after
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TZ = "Europe/Berlin"
SKILLS = ("electrical", "plumbing", "refrigeration", "heating")
FIRST = ("Jonas", "Lea", "Mehmet", "Anna", "Lukas", "Sofia", "Piotr", "Mia", "Felix", "Emilia",
         "Karl", "Hannah", "Tobias", "Aylin", "Niklas", "Greta", "Jan", "Clara", "Ole", "Ida")
LAST = ("Weber", "Schneider", "Yılmaz", "Fischer", "Wagner", "Becker", "Kowalski", "Hoffmann",
        "Schäfer", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Zimmermann",
        "Braun", "Krüger", "Hofmann-Lindqvist", "Hartmann", "Lange", "Schmitt", "Werner",
        "Quellmalz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier")
TOWNS = (("Berlin-Mitte", 52.52, 13.40), ("Potsdam", 52.39, 13.06),
         ("Oranienburg", 52.75, 13.24), ("Bernau", 52.68, 13.59), ("Königs Wusterhausen",
                                                                   52.30, 13.63),
         ("Spandau", 52.54, 13.20), ("Köpenick", 52.44, 13.58), ("Falkensee", 52.56, 13.09),
         ("Teltow", 52.40, 13.27), ("Strausberg", 52.58, 13.88))
TERRITORIES = ("north", "south", "east", "west", "centre")


@dataclass(frozen=True)
class Seeded:
    """What was made: technician ids, and (visit id, incident id) of the movable jobs."""

    technicians: list[int]
    movable: list[tuple[int, str]]


def _technicians(cur: psycopg.Cursor, techs: int, rng: random.Random) -> list[int]:
    rows = []
    for i in range(techs):
        town = TOWNS[i % len(TOWNS)]
        rows.append((f"{FIRST[i % len(FIRST)]} {LAST[(i * 7 + i // 20) % len(LAST)]}",
                     sorted(rng.sample(SKILLS, 2)), town[1], town[2],
                     TERRITORIES[i % len(TERRITORIES)], TZ))
    cur.executemany(
        """INSERT INTO technicians (name, skills, home_lat, home_lon, territory, tz, work_start,
                                    work_end, work_days)
           VALUES (%s, %s, %s, %s, %s, %s, '07:00', '17:00', '{0,1,2,3,4}')""", rows)
    return [r[0] for r in cur.execute("SELECT id FROM technicians ORDER BY id").fetchall()]


def _customers(cur: psycopg.Cursor, towns: list[int], rng: random.Random
               ) -> list[tuple[float, float]]:
    rows, places = [], []
    for j, t in enumerate(towns):
        town = TOWNS[t]
        lat, lon = town[1] + rng.uniform(-0.02, 0.02), town[2] + rng.uniform(-0.03, 0.03)
        places.append((lat, lon))
        rows.append((f"c{j}", f"{FIRST[j % 20]} {LAST[(j * 11) % len(LAST)]}",
                     f"c{j}@example.org", f"+49 30 {5550000 + j}", TZ, town[0], lat, lon,
                     "phone" if j % 5 == 0 else "email"))
    cur.executemany(
        """INSERT INTO customers (customer_id, name, email, phone, time_zone, city, lat, lon,
                                  preferred_channel)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""", rows)
    cur.executemany("INSERT INTO consents (customer_id, kind, granted, source) "
                    "VALUES (%s, 'proactive_email', true, 'bench')",
                    [(f"c{j}",) for j in range(len(towns))])
    return places


def _visit_rows(ids: list[int], skills: dict[int, list[str]], per_day: int, days: list[date],
                offset: int, places: list[tuple[float, float]],
                rng: random.Random) -> list[tuple[object, ...]]:
    zone, rows = ZoneInfo(TZ), []
    for k, tid in enumerate(ids):
        for d, day in enumerate(days):
            for s in range(per_day):
                j = offset + (k * len(days) + d) * per_day + s
                start = (datetime.combine(day, dtime(7), zone)
                         + timedelta(minutes=(55 if per_day > 2 else 180) * s + 10))
                state = "held" if j % 4 == 0 else "done" if j % 13 == 0 else "booked"
                lat, lon = places[j]
                rows.append((tid, f"inc-{j}", f"c{j}", start, start + timedelta(minutes=45),
                             state, NOW + timedelta(days=20) if state == "held" else None,
                             lat, lon, rng.choice(skills[tid]), j % 17 == 0))
    return rows


def seed_board(conn: psycopg.Connection, *, techs: int = 200, jobs: int = 2000,
               seed: int = 7) -> Seeded:
    """Technicians, customers with consent to email, appliances, incidents, decisions and
    visits: `jobs` on DAY and `jobs` over the week of WEEK."""
    rng = random.Random(seed)
    with conn.cursor() as cur:
        ids = _technicians(cur, techs, rng)
        skills = {r[0]: list(r[1]) for r in cur.execute("SELECT id, skills FROM technicians")}
        # a technician's customers live in the technician's town (mostly: one in 25 not)
        towns = [(j // (jobs // techs) if j < jobs else (j - jobs) // (jobs // techs))
                 % len(TOWNS) if j % 25 else (j * 3) % len(TOWNS) for j in range(2 * jobs)]
        places = _customers(cur, towns, rng)
        week = [WEEK + timedelta(days=d) for d in range(5)]
        rows = (_visit_rows(ids, skills, jobs // techs, [DAY], 0, places, rng)
                + _visit_rows(ids, skills, jobs // techs // len(week), week, jobs, places, rng))
        cur.executemany(
            """INSERT INTO visits (technician_id, incident_id, customer_id, starts_at, ends_at,
                                   state, hold_expires_at, lat, lon, skill, urgent)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""", rows)
        cur.executemany("INSERT INTO households (household_id, customer_id) VALUES (%s, %s)",
                        [(f"h{j}", f"c{j}") for j in range(2 * jobs)])
        cur.executemany("INSERT INTO devices (device_id, model_id, household_id) "
                        "VALUES (%s, 'WM-800', %s)", [(f"wm{j}", f"h{j}") for j in range(2 * jobs)])
        cur.executemany(
            """INSERT INTO incidents (key, device, fault, kind, severity, action, title, state,
                                      opened_at, updated_at)
               SELECT %s, d.id, 'E60', 'prediction', 'error', 'technician', 'Drum motor strain',
                      'open', %s, %s FROM devices d WHERE d.device_id = %s""",
            [(f"inc-{j}", NOW, NOW, f"wm{j}") for j in range(2 * jobs)])
        cur.executemany(
            """INSERT INTO dispatch_decisions (idempotency_key, incident_id, customer_id, action,
                                               delivery, device_id, fault_code, decided_at)
               VALUES (%s, %s, %s, 'visit', 'now', %s, 'E60', %s)""",
            [(f"inc-{j}:visit", f"inc-{j}", f"c{j}", f"wm{j}", NOW) for j in range(2 * jobs)])
        movable = cur.execute(
            "SELECT id, incident_id FROM visits WHERE state IN ('held', 'booked') "
            "AND starts_at::date = %s ORDER BY id", (DAY,)).fetchall()
    conn.execute("ANALYZE")
    return Seeded(ids, [(r[0], r[1]) for r in movable])
