"""`fixahead bench web`: the dispatch board for 200 technicians and 2,000 jobs in one day,
rendered on the server through the real database.

Measured: a full `GET /board` (session check, board query, side lists, Jinja render) through
the ASGI app in-process. Baselines in the same run: the same board built with one query per
technician (the naive way), and the board page of an empty day (the fixed cost of a page).
"""

from __future__ import annotations

import random
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import psycopg

from fixahead.lab.bench.common import bench_database, percentile, result
from fixahead.settings import Settings
from fixahead.web import board
from fixahead.web.boardstore import JOB_COLUMNS, JOB_FROM, technicians
from fixahead.web.routes.pages.board_pages import board_data
from fixahead.web.templating import templates
from fixahead.web.users import add_user

DAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SKILLS = ("appliance", "electrical", "plumbing", "refrigeration", "heating")
PASSWORD = "bench-password-123"


def _setup(conn: psycopg.Connection, techs: int, jobs: int, rng: random.Random) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO technicians (name, skills, home_lat, home_lon, territory)
               VALUES (%s, %s, 52.5, 13.4, %s)""",
            [(f"Technician {i:03d}", sorted(rng.sample(SKILLS, 2)), f"t{i % 8}")
             for i in range(techs)])
        ids = [r[0] for r in cur.execute("SELECT id FROM technicians ORDER BY id").fetchall()]
        cur.executemany("INSERT INTO customers (customer_id, name, email) VALUES (%s, %s, %s)",
                        [(f"c{j}", f"Customer {j}", f"c{j}@example.org") for j in range(jobs)])
        per = jobs // techs
        rows = []
        for k, tid in enumerate(ids):
            for s in range(per):
                j = k * per + s
                start = datetime.combine(DAY, dtime(7), UTC) + timedelta(minutes=55 * s)
                state = "held" if j % 4 == 0 else "booked"
                rows.append((tid, f"inc-{j}", f"c{j}", start, start + timedelta(minutes=50),
                             state, NOW + timedelta(days=2) if state == "held" else None,
                             rng.choice(SKILLS), j % 17 == 0))
        cur.executemany(
            """INSERT INTO visits (technician_id, incident_id, customer_id, starts_at, ends_at,
                                   state, hold_expires_at, lat, lon, skill, urgent)
               VALUES (%s, %s, %s, %s, %s, %s, %s, 52.5, 13.4, %s, %s)""", rows)
        cur.executemany(
            """INSERT INTO incidents (key, device, fault, kind, severity, action, title, state,
                                      opened_at, updated_at)
               VALUES (%s, %s, 'E60', 'prediction', 'error', 'technician', 'Motor', 'open',
                       %s, %s)""", [(f"inc-{j}", j, NOW, NOW) for j in range(jobs)])
    conn.execute("ANALYZE")


def naive_board(conn: psycopg.Connection, first: date, tz: str) -> str:
    """The baseline: one query per technician, then the same layout and template."""
    cols = board.columns(first, 1, tz, start=dtime(6), end=dtime(22))
    techs = technicians(conn)
    jobs: list[board.Job] = []
    for t in techs:
        rows = conn.execute(
            f"""SELECT {JOB_COLUMNS} {JOB_FROM}
                WHERE v.technician_id = %(tech)s AND v.starts_at < %(end)s
                  AND v.ends_at > %(start)s AND v.state IN ('held', 'booked', 'done')""",
            {"tz": tz, "names": True, "tech": t.technician_id, "start": cols[0].start,
             "end": cols[0].end}).fetchall()
        jobs.extend(board.Job(*r) for r in rows)
    return templates.env.get_template("board_grid.html").render(
        cols=cols, techs=techs, cells=board.cells_html(board.place(jobs, cols)),
        marks=board.hour_marks(cols[0]),
        job_count=len(jobs), query="", days=1)


def _timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(settings: Settings, *, quick: bool) -> dict[str, Any]:
    """Run the board benchmark and return the standard result document."""
    from fixahead.web.board_app import create_web_app

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from fastapi.testclient import TestClient

    techs, jobs, n = 200, 2000, (15 if quick else 100)
    with bench_database(settings) as url, psycopg.connect(url, autocommit=True) as conn:
        _setup(conn, techs, jobs, random.Random(7))
        add_user(conn, email="bench@fix.example", role="viewer", password=PASSWORD,
                 actor="bench")
        app = create_web_app(url, secret=b"bench-secret-0123456789", secure_cookies=False,
                             live=False, clock=lambda: NOW, pool_max=2)
        with TestClient(app) as client:
            page = client.get("/login")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            client.post("/login", data={"email": "bench@fix.example", "password": PASSWORD,
                                        "csrf_token": token})
            first = client.get(f"/board?day={DAY}")
            assert first.status_code == 200 and first.text.count("data-visit=") == jobs, \
                "the board did not show every job"
            size = len(first.content)
            ours = _timed(lambda: client.get(f"/board?day={DAY}"), n)
            grid = _timed(lambda: client.get(f"/board/grid?day={DAY}"), n)
            empty = _timed(lambda: client.get(f"/board?day={DAY + timedelta(days=30)}"), n)
        direct = _timed(lambda: board_data(conn, first=DAY, days=1, tz="UTC", now=NOW), n)
        naive = _timed(lambda: naive_board(conn, DAY, "UTC"), n)
    p = percentile
    metrics = {"board_p50_ms": round(p(ours, 50), 1), "board_p99_ms": round(p(ours, 99), 1),
               "grid_p50_ms": round(p(grid, 50), 1), "grid_p99_ms": round(p(grid, 99), 1),
               "board_query_p50_ms": round(p(direct, 50), 1), "page_bytes": size,
               "target_p99_ms": 300, "meets_target": p(ours, 99) < 300}
    baselines = {"naive_per_technician_p50_ms": round(p(naive, 50), 1),
                 "naive_per_technician_p99_ms": round(p(naive, 99), 1),
                 "empty_board_p50_ms": round(p(empty, 50), 1),
                 "empty_board_p99_ms": round(p(empty, 99), 1)}
    ratios = {"naive_grid_over_ours_grid_p50": round(p(naive, 50) / p(grid, 50), 2),
              "board_over_empty_board_p50": round(p(ours, 50) / p(empty, 50), 2)}
    return result("web", metrics, baselines, ratios,
                  {"technicians": techs, "jobs": jobs, "requests": n, "quick": quick,
                   "through": "ASGI in-process (httpx TestClient), real PostgreSQL"})
