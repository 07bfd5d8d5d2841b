"""The storms page in a real headless Chromium, over a storm the guard really held: the board's
banner leads there, and a scheduler's Release sends the held emails."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from fixahead.web.board_app import create_web_app
from tests.support.board import PASSWORD, SECRET
from tests.support.board import serve as serve_app
from tests.support.incidents import T0, emails
from tests.support.storms import CFG

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_a_scheduler_follows_the_board_banner_and_releases_the_storm(
        database_url: str, storm: dict[str, str]) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=2,
                         live=False, storms=CFG, clock=lambda: T0 + timedelta(hours=1))
    with serve_app(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(f"{base}/login?next=/board")
            page.get_by_label("Email").fill(storm["scheduler"])
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/board*")
            banner = page.get_by_role("alert").filter(has_text="fleet incident")
            expect(banner).to_have_text("1 fleet incident holds 100 customer emails: review")
            banner.get_by_role("link", name="review").click()
            page.wait_for_url(f"{base}/storms")
            expect(page.locator("table.storms tbody tr")).to_have_count(1)
            page.screenshot(path=str(ARTIFACTS / "storms.png"), full_page=True)
            page.get_by_role("button", name="Release 100 held emails of WM-800 E21").click()
            expect(page.get_by_role("status")).to_contain_text("100 decided now")
            page.screenshot(path=str(ARTIFACTS / "storms-released.png"), full_page=True)
        finally:
            browser.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert emails(conn) == 100
