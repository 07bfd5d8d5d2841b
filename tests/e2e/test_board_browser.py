"""End to end in a real headless Chromium: a scheduler signs in, finds a job that dispatch
booked (held) from a fault, opens it, sees the chart, books it, moves it to another technician,
and a second person's board updates by itself (server-sent events fed by PostgreSQL NOTIFY)."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from fixahead.web.board_app import create_web_app
from tests.support.board import PASSWORD, SECRET, add_people, now_utc, seed_job
from tests.support.board import serve as serve_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _sign_in(page, base: str, email: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login?next={path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{path}")


def test_a_scheduler_moves_a_booked_job_and_another_board_follows(database_url: str) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    with psycopg.connect(database_url, autocommit=True) as conn:
        people = add_people(conn)
        job = seed_job(conn, now=now_utc(), technicians=2)
        day, held_by = conn.execute("SELECT (starts_at AT TIME ZONE 'UTC')::date, technician_id "
                                    "FROM visits WHERE id = %s", (job.visit_id,)).fetchone()
    board_path = f"/board?day={day.isoformat()}"
    other = next(t for t in job.technicians if t != held_by)
    other_name = f"Tech 1-{job.technicians.index(other)}"
    ARTIFACTS.mkdir(exist_ok=True)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=4)
    with serve_app(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            watcher = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            _sign_in(watcher, base, people["viewer"], board_path)
            expect(watcher.locator("#live")).to_have_attribute("data-state", "on",
                                                               timeout=10_000)
            expect(watcher.locator(f'.brow[data-tech="{other}"] a[data-visit]')).to_have_count(0)

            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            _sign_in(page, base, people["scheduler"], board_path)
            page.locator(f'a[data-visit="{job.visit_id}"]').click()
            page.wait_for_url(f"{base}/jobs/{job.visit_id}")
            expect(page.locator("svg.chart")).to_be_visible()
            expect(page.locator("svg.chart line.detect")).to_have_count(1)
            expect(page.locator("svg.chart polyline")).to_have_count(1)
            page.screenshot(path=str(ARTIFACTS / "e2e-job-page.png"), full_page=True)

            expect(watcher.locator("#side")).to_contain_text("Waiting for the customer (1)")
            page.get_by_role("button", name="Dispatch (book this hold)").click()
            expect(page.get_by_role("status")).to_contain_text("dispatched")
            expect(page.locator("[data-state=booked]")).to_be_visible()
            # the other board's side list follows too (swapped in out of band)
            expect(watcher.locator("#side")).to_contain_text("Waiting for the customer (0)",
                                                             timeout=10_000)

            page.get_by_label("Technician").select_option(str(other))
            page.get_by_role("button", name="Move", exact=True).click()
            page.wait_for_load_state()
            anyway = page.get_by_role("button", name="Move anyway")
            if anyway.count():  # the held time may fall in the customer's quiet hours
                anyway.click()
            expect(page.get_by_role("status")).to_contain_text("is with " + other_name)
            expect(page.locator("#job-technician")).to_have_text(other_name)

            moved = watcher.locator(f'.brow[data-tech="{other}"] a[data-visit="{job.visit_id}"]')
            expect(moved).to_be_visible(timeout=10_000)  # no reload: the board was pushed
            watcher.screenshot(path=str(ARTIFACTS / "e2e-board-after-move.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "e2e-board-after-move.png").stat().st_size > 0
