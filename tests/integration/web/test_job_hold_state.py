"""The job page tells a live hold from an expired one, as the board does (issue 17)."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.support.board import add_people, now_utc, seed_job
from tests.support.web import login

pytestmark = pytest.mark.integration

ZONE = "Pacific/Auckland"  # far from UTC, so a time shown in UTC would not match


def _visit_state(page: str) -> str:
    found = re.search(r'<span class="state" data-state="([^"]+)" id="visit-state">([^<]*)<', page)
    assert found is not None, page
    return f"{found.group(1)}: {found.group(2)}"


def test_a_held_visit_whose_hold_has_passed_shows_as_expired_in_local_time(
        web, conn: psycopg.Connection) -> None:
    people = add_people(conn)
    conn.execute("UPDATE web_users SET time_zone = %s WHERE email = %s",
                 (ZONE, people["viewer"]))
    now = now_utc()
    job = seed_job(conn, now=now)
    ended = (now - timedelta(hours=1)).replace(microsecond=0)
    conn.execute("UPDATE visits SET state = 'held', hold_expires_at = %s WHERE id = %s",
                 (ended, job.visit_id))
    login(web, people["viewer"])
    page = web.get(f"/jobs/{job.visit_id}").text
    local = ended.astimezone(ZoneInfo(ZONE)).strftime("%a %Y-%m-%d %H:%M")
    assert _visit_state(page) == f"expired: hold expired {local}"
    assert "(tentative)" not in page and "Hold ends" not in page


def test_a_held_visit_within_its_hold_shows_as_held(
        web, conn: psycopg.Connection) -> None:
    people = add_people(conn)
    now = now_utc()
    job = seed_job(conn, now=now)
    conn.execute("UPDATE visits SET state = 'held', hold_expires_at = %s WHERE id = %s",
                 (now + timedelta(hours=6), job.visit_id))
    login(web, people["viewer"])
    page = web.get(f"/jobs/{job.visit_id}").text
    assert _visit_state(page) == "held: held (tentative)"
    assert "hold expired" not in page and "Hold ends" in page
