"""The dead-letters page in a real headless Chromium, over dead letters a real ingest worker
made from hostile traffic: the menu leads there, the filters work, payloads are text."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from fixahead.web.board_app import create_web_app
from tests.support.board import PASSWORD, SECRET, add_people
from tests.support.board import serve as serve_app
from tests.support.deadletters import make_dead_letters

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_an_operator_finds_the_refused_messages_of_a_hostile_device(
        database_url: str, mqtt_url: str, topic_prefix: str) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    devices = make_dead_letters(database_url, mqtt_url, topic_prefix)
    with psycopg.connect(database_url, autocommit=True) as conn:
        people = add_people(conn)
    ARTIFACTS.mkdir(exist_ok=True)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=2,
                         live=False)
    with serve_app(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(f"{base}/login?next=/board")
            page.get_by_label("Email").fill(people["scheduler"])
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/board")
            page.get_by_role("link", name="Dead letters").click()
            page.wait_for_url(f"{base}/dead-letters")
            expect(page.locator("table.dead-letters tbody tr")).to_have_count(5)
            expect(page.locator("pre.payload").filter(has_text="<script>")).to_have_count(1)
            expect(page.locator("table.dead-letters")).to_contain_text("acl_denied")
            page.screenshot(path=str(ARTIFACTS / "dead-letters.png"), full_page=True)
            page.get_by_role("textbox", name="Device").fill(devices["hostile"])
            page.get_by_role("button", name="Show").click()
            expect(page.locator("table.dead-letters tbody tr")).to_have_count(4)
            page.screenshot(path=str(ARTIFACTS / "dead-letters-device.png"), full_page=True)
        finally:
            browser.close()
