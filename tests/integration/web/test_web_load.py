"""200 concurrent requests through a real uvicorn server and a real PostgreSQL: with a session,
without one, to a customer's link and to the API with a token. None may answer 5xx other than
503 with Retry-After, and none may take longer than the bound."""

from __future__ import annotations

import asyncio
import collections
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from dispatch.links import sign as sign_link
from fixahead.commands.web import build_web_app, web_secret
from fixahead.settings import load_settings
from fixahead.web.auth import create_token
from fixahead.web.cookies import SESSION_COOKIE
from fixahead.web.cookies import sign as sign_cookie
from fixahead.web.users import check_login, open_session
from tests.support.board import PASSWORD, add_people, now_utc, seed_job, serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CONCURRENT = 200
BOUND_S = 10.0  # no request may wait longer than this, even on a busy 2-core machine
LINK_SECRET = b"link-secret-for-load-tests"


Call = tuple[str, dict[str, str], dict[str, str]]  # path, headers, cookies


async def _fire(base: str, calls: list[Call]) -> tuple[collections.Counter[str], float]:
    """All `calls` at once; status counts (503 with Retry-After apart) and the slowest (s)."""
    limits = httpx.Limits(max_connections=len(calls), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        async def one(path: str, headers: dict[str, str],
                      cookies: dict[str, str]) -> tuple[str, float]:
            started = time.monotonic()
            if cookies:  # as a header: httpx deprecates per-request cookies
                headers = {**headers, "Cookie": "; ".join(f"{k}={v}"
                                                          for k, v in cookies.items())}
            r = await client.get(path, headers=headers, follow_redirects=False)
            status = str(r.status_code)
            if r.status_code == 503 and r.headers.get("Retry-After"):
                status = "503+Retry-After"
            return status, time.monotonic() - started

        results = await asyncio.gather(*(one(*call) for call in calls))
    return collections.Counter(s for s, _ in results), max(t for _, t in results)


def test_two_hundred_concurrent_requests_get_answers_and_no_server_error(
        database_url: str, tmp_path: Path) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        seeded = seed_job(conn, now=now_utc())
        people = add_people(conn)
        user = check_login(conn, people["viewer"], PASSWORD)
        assert user is not None
        session_id = open_session(conn, user, now=datetime.now(UTC))
        token = create_token(conn, role="viewer", name="load", actor="test")
    settings = load_settings({}, database_url=database_url, data_dir=tmp_path)
    app = build_web_app(settings, database_url, link_secret=LINK_SECRET)
    link = sign_link(LINK_SECRET, "fixed", seeded.incident_key,
                     datetime.now(UTC) + timedelta(days=3))
    cookie = {SESSION_COOKIE: sign_cookie(web_secret(settings), session_id)}
    bearer = {"Authorization": f"Bearer {token}"}
    cases = {  # what, path, headers, cookies, the statuses a healthy answer has
        "board with a session": ("/board", {}, cookie, {"200"}),
        "board without a session": ("/board", {}, {}, {"303"}),
        "login page": ("/login", {}, {}, {"200"}),
        "customer link page": (f"/c/{link}", {}, {}, {"200"}),
        "API with a token": ("/api/v1/jobs", bearer, {}, {"200"}),
        "API without a token": ("/api/v1/jobs", {}, {}, {"401"}),
    }
    every = [(path, headers, cookies) for path, headers, cookies, _ in cases.values()]
    cases["all of them mixed"] = ("", {}, {}, set().union(*(h for *_, h in cases.values())))
    report = {}
    with serve(app) as base:
        for what, (path, headers, cookies, healthy) in cases.items():
            calls = ([every[i % len(every)] for i in range(CONCURRENT)] if not path
                     else [(path, headers, cookies)] * CONCURRENT)
            counts, slowest = asyncio.run(_fire(base, calls))
            report[what] = (dict(counts), round(slowest, 2))
            bad = {s: n for s, n in counts.items() if s not in healthy | {"503+Retry-After"}}
            assert not bad, f"{what}: {counts}"
            assert slowest < BOUND_S, f"{what}: slowest answer took {slowest:.1f} s"
            assert sum(counts[s] for s in healthy) >= CONCURRENT // 2, f"{what}: {counts}"
    print(report)  # the figures docs/web.md quotes (pytest -s)
