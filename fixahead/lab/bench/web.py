"""`fixahead bench web`: the dispatch board for 200 technicians and 2,000 jobs, rendered on
the server through the real database, and moving a job.

Measured through the ASGI app in-process: a full `GET /board` of one day (10 jobs per
technician) and of a week (2,000 jobs over five days), the grid a live update fetches, and
`POST /board/move` (check skills, hours, overlaps and travel, save, audit, queue the
customer's email). Baselines in the same run: the same day board built with one query per
technician (the naive way; and one per technician for the faults, as the board reads them
from rules), and the board page of an empty day (the fixed cost of a page).
"""

from __future__ import annotations

import time
import warnings
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from dispatch.boardqueries import JOB_COLUMNS, JOB_FROM
from fixahead.lab.bench.boardseed import DAY, NOW, TZ, WEEK, seed_board
from fixahead.lab.bench.common import bench_database, percentile, result
from fixahead.settings import Settings
from fixahead.web import board, boardcells
from fixahead.web.boardstore import technicians, with_faults
from fixahead.web.templating import templates
from fixahead.web.users import add_user
from fixahead.webserver import freeze_startup_objects

PASSWORD = "bench-password-123"


def naive_board(conn: psycopg.Connection, first: date, tz: str) -> str:
    """The baseline: one query per technician (and one for its jobs' faults, rules'), then
    the same layout and template."""
    cols = board.columns(first, 1, tz)
    techs = technicians(conn)
    jobs: list[board.Job] = []
    for t in techs:
        rows = conn.execute(
            f"""SELECT {JOB_COLUMNS} {JOB_FROM}
                WHERE v.technician_id = %(tech)s AND v.starts_at < %(end)s
                  AND v.ends_at > %(start)s AND v.state IN ('held', 'booked', 'done')""",
            {"names": True, "tech": t.technician_id, "start": cols[0].start,
             "end": cols[0].end}).fetchall()
        jobs.extend(board.with_local_times(with_faults(conn, rows), tz))
    cells = boardcells.day_cells(board.place(jobs, cols), cols, {})
    return templates.env.get_template("board_grid.html").render(
        cols=cols, techs=techs, rows=boardcells.rows_html(techs, cols, cells, {}, axis=True,
                                                          idle=set()),
        marks=board.hour_marks(cols[0]), mode="axis", col_data="", idle=set(), hours=12,
        job_count=len(jobs), query="", days=1, session=None, f=None)


def _timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _moves(conn: psycopg.Connection, movable: list[tuple[int, str]], n: int
           ) -> list[dict[str, str]]:
    """n moves of DAY's jobs to a technician with the skill, on a later day at 09:00."""
    skill_of = dict(conn.execute("SELECT id, skill FROM visits").fetchall())
    techs = conn.execute("SELECT id, skills FROM technicians ORDER BY id").fetchall()
    zone, out, used = ZoneInfo(TZ), [], {}
    for visit_id, _ in movable[:n]:
        tid = next(t for t, skills in techs[len(out) % len(techs):] + techs
                   if skill_of[visit_id] in skills and used.get(t, 0) < 3)
        slot = used.get(tid, 0)  # one move a day per technician: no drive to check against
        used[tid] = slot + 1
        start = datetime.combine(DAY + timedelta(days=1 + slot), dtime(9), zone)
        out.append({"visit_id": str(visit_id), "technician_id": str(tid),
                    "start": start.isoformat()})
    return out


def _login(client: Any) -> str:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"email": "bench@fix.example", "password": PASSWORD,
                                "csrf_token": token})
    return str(client.get("/board").text.split('"X-CSRF-Token": "')[1].split('"')[0])


def _measure(client: Any, n: int, moves: list[dict[str, str]]) -> dict[str, list[float]]:
    first = client.get(f"/board?day={DAY}")
    assert first.status_code == 200 and first.text.count("data-visit=") == 2000, \
        "the day board did not show every job"
    week = client.get(f"/board?day={WEEK}&days=7")
    assert week.text.count("data-visit=") == 2000, "the week board did not show every job"
    csrf = _login(client)
    answers: list[int] = []

    def move(i: list[int] = [0]) -> None:  # noqa: B006 - a counter across calls
        r = client.post("/board/move", data=moves[i[0]], headers={"X-CSRF-Token": csrf})
        answers.append(r.status_code)
        assert r.status_code == 200 and r.json()["outbox_id"], r.text
        i[0] += 1

    out = {"day": _timed(lambda: client.get(f"/board?day={DAY}"), n),
           "week": _timed(lambda: client.get(f"/board?day={WEEK}&days=7"), n),
           "grid": _timed(lambda: client.get(f"/board/grid?day={DAY}"), n),
           "empty": _timed(lambda: client.get(f"/board?day={DAY + timedelta(days=60)}"), n),
           "move": _timed(move, len(moves)),
           "bytes": [float(len(first.content)), float(len(week.content))]}
    return out


def run(settings: Settings, *, quick: bool) -> dict[str, Any]:
    """Run the board benchmark and return the standard result document."""
    from fixahead.web.board_app import create_web_app

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from fastapi.testclient import TestClient

    techs, jobs, n = 200, 2000, (15 if quick else 100)
    with bench_database(settings) as url, psycopg.connect(url, autocommit=True) as conn:
        seeded = seed_board(conn, techs=techs, jobs=jobs)
        user = add_user(conn, email="bench@fix.example", role="scheduler", password=PASSWORD,
                        actor="bench")
        conn.execute("UPDATE web_users SET time_zone = %s WHERE id = %s", (TZ, user))
        moves = _moves(conn, seeded.movable, n)
        app = create_web_app(url, secret=b"bench-secret-0123456789", secure_cookies=False,
                             live=False, clock=lambda: NOW, pool_max=2)
        with TestClient(app) as client:
            _login(client)
            frozen = freeze_startup_objects()  # as `fixahead run web` does before serving
            t = _measure(client, n, moves)
        naive = _timed(lambda: naive_board(conn, DAY, TZ), n)
        emails = conn.execute("SELECT count(*) FROM email_outbox").fetchone()
    p = percentile
    metrics = {"board_day_p50_ms": round(p(t["day"], 50), 1),
               "board_day_p99_ms": round(p(t["day"], 99), 1),
               "board_week_p50_ms": round(p(t["week"], 50), 1),
               "board_week_p99_ms": round(p(t["week"], 99), 1),
               "grid_p50_ms": round(p(t["grid"], 50), 1), "grid_p99_ms": round(p(t["grid"], 99), 1),
               "move_p50_ms": round(p(t["move"], 50), 1), "move_p99_ms": round(p(t["move"], 99), 1),
               "moves": len(t["move"]), "emails_queued": emails[0] if emails else 0,
               "page_bytes_day": int(t["bytes"][0]), "page_bytes_week": int(t["bytes"][1]),
               "target_board_p99_ms": 300, "target_move_p99_ms": 200,
               "meets_targets": max(p(t["day"], 99), p(t["week"], 99)) <= 300
               and p(t["move"], 99) <= 200}
    baselines = {"naive_per_technician_p50_ms": round(p(naive, 50), 1),
                 "naive_per_technician_p99_ms": round(p(naive, 99), 1),
                 "empty_board_p50_ms": round(p(t["empty"], 50), 1),
                 "empty_board_p99_ms": round(p(t["empty"], 99), 1)}
    ratios = {"naive_grid_over_ours_grid_p50": round(p(naive, 50) / p(t["grid"], 50), 2),
              "board_over_empty_board_p50": round(p(t["day"], 50) / p(t["empty"], 50), 2)}
    return result("web", metrics, baselines, ratios,
                  {"technicians": techs, "jobs_per_view": jobs, "requests": n, "quick": quick,
                   "user_time_zone": TZ, "gc_frozen_objects": frozen,
                   "through": "ASGI in-process (httpx TestClient), real PostgreSQL"})
