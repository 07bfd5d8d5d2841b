"""The job page says how long a predicted fault leaves the appliance (incidents.detail)."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.support.board import add_people, now_utc, seed_job
from tests.support.web import login

pytestmark = pytest.mark.integration


def test_the_job_page_shows_the_remaining_life(web, conn: psycopg.Connection) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    login(web, people["viewer"])
    assert "Remaining life" not in web.get(f"/jobs/{job.visit_id}").text
    life = {"days": 6.3, "lo": 3.2, "hi": 9.7, "at": "2026-12-01T08:00:00+00:00",
            "text": "about 6 days left (3-10)"}
    conn.execute("UPDATE incidents SET detail = %s WHERE key = %s",
                 (json.dumps({"remaining_life": life}), job.incident_key))
    page = web.get(f"/jobs/{job.visit_id}").text
    assert "about 6 days left (3-10), estimated 2026-12-01" in page
