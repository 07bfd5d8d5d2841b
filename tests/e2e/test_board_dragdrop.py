"""The board in a real headless Chromium: drag a job onto another technician and time (saved,
the customer emailed), the keyboard dialog refuses the past and asks before quiet hours, and
the day and week views of 200 technicians and 2,000 jobs, captured as screenshots."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from fixahead.lab.bench.boardseed import DAY, NOW, TZ, WEEK, seed_board
from fixahead.web.board_app import create_web_app
from tests.support.board import SECRET, add_people, add_scheduler, now_utc, seed_job
from tests.support.board import serve as serve_app
from tests.support.browser import SHOTS, day_point
from tests.support.browser import chromium as _browser
from tests.support.browser import sign_in as _sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _cut(page, selector: str) -> int:  # type: ignore[no-untyped-def]
    """How many of these elements show less than their text (cut off with an ellipsis)."""
    return int(page.evaluate("""s => [...document.querySelectorAll(s)]
        .filter(e => e.scrollWidth > e.clientWidth + 1).length""", selector))


def _tomorrow_early() -> datetime:
    """06:00 UTC tomorrow: a job seeded then is booked on a day whose hours (14:00, 02:00)
    are all still ahead of the wall clock the move checks against, whatever the hour now
    (seeded now, the visit lands late today from the evening on, and 14:00 is past)."""
    return datetime.combine(now_utc().date() + timedelta(days=1), time(6), UTC)


def test_dragging_a_job_to_another_technician_and_time_saves_it_and_emails_the_customer(
        database_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with psycopg.connect(database_url, autocommit=True) as conn:
        people = add_people(conn)
        job = seed_job(conn, now=_tomorrow_early(), technicians=2)
        day, held_by = conn.execute("SELECT (starts_at AT TIME ZONE 'UTC')::date, technician_id "
                                    "FROM visits WHERE id = %s", (job.visit_id,)).fetchone()
        emails_before = conn.execute("SELECT count(*) FROM email_outbox").fetchone()[0]
    other = next(t for t in job.technicians if t != held_by)
    target = datetime.combine(day, datetime.min.time(), ZoneInfo("UTC")) + timedelta(hours=14)
    SHOTS.mkdir(parents=True, exist_ok=True)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=4)
    with serve_app(app) as base, sync_playwright() as pw:
        browser = _browser(pw)
        try:
            page = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
            _sign_in(page, base, people["scheduler"], f"/board?day={day.isoformat()}")
            block = page.locator(f'a[data-visit="{job.visit_id}"]')
            cell = page.locator(f'.brow[data-tech="{other}"] .day[data-col="0"]')
            box = block.bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + 30, box["y"] + box["height"] / 2, steps=5)
            # the seeded technicians work all day: the axis runs 00-24, 14:00 is 14/24 across,
            # further from the job (00:00) than the board shows: it scrolls during the drag
            x, y = day_point(cell, 14 / 24)
            page.mouse.move(x - 40, y, steps=5)
            page.mouse.move(x, y, steps=5)
            expect(page.locator(".ghost")).to_contain_text("14:00")
            expect(page.locator(f'.brow[data-tech="{other}"] .phome').first).to_be_attached()
            page.screenshot(path=str(SHOTS / "board-drag-in-progress.png"))
            page.mouse.up()
            expect(page.locator("#board-msg")).to_contain_text("is with Tech 1-", timeout=10_000)
            expect(page.locator("#board-msg")).to_contain_text("The customer will get an email")
            moved = page.locator(f'.brow[data-tech="{other}"] a[data-visit="{job.visit_id}"]')
            expect(moved).to_be_visible(timeout=10_000)
            page.screenshot(path=str(SHOTS / "board-after-drag.png"))

            page.goto(f"{base}/account")  # the scheduler works from Berlin
            page.get_by_label("Show times in").select_option("Europe/Berlin")
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_role("status")).to_contain_text("Europe/Berlin")
            page.goto(f"{base}/jobs/{job.visit_id}")
            local = target.astimezone(ZoneInfo("Europe/Berlin"))
            expect(page.locator("#h-visit + p + p")).to_contain_text(f"{local:%H:%M}")
            expect(page.locator("#customer-time")).to_contain_text(f"{target:%a %d %b %H:%M}")
            expect(page.locator("#history")).to_contain_text("moved")
            expect(page.locator("#history")).to_contain_text("scheduler@fix.example")
            expect(page.locator("svg.chart line.limit").first).to_be_attached()
            page.screenshot(path=str(SHOTS / "job-page-after-move.png"), full_page=True)
        finally:
            browser.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT technician_id, starts_at FROM visits WHERE id = %s",
                            (job.visit_id,)).fetchone() == (other, target)
        mails = conn.execute("SELECT kind, to_addr, payload->'visit'->>'start', payload->>'change' "
                             "FROM email_outbox ORDER BY id").fetchall()
        assert len(mails) == emails_before + 1
        assert mails[-1] == ("confirmation", "ada1@example.org", target.isoformat(), "moved")
        trail = conn.execute("SELECT action FROM audit_log WHERE subject_type = 'visit' "
                             "AND subject_id = %s", (str(job.visit_id),)).fetchall()
        assert trail == [("job.move",)]


def test_the_keyboard_dialog_refuses_the_past_and_asks_before_quiet_hours(
        database_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with psycopg.connect(database_url, autocommit=True) as conn:
        people = add_people(conn)
        job = seed_job(conn, now=_tomorrow_early(), technicians=2)
        day, before = conn.execute("SELECT (starts_at AT TIME ZONE 'UTC')::date, starts_at "
                                   "FROM visits WHERE id = %s", (job.visit_id,)).fetchone()
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=4)
    with serve_app(app) as base, sync_playwright() as pw:
        browser = _browser(pw)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            _sign_in(page, base, people["scheduler"], f"/board?day={day.isoformat()}")
            page.locator(f'a[data-visit="{job.visit_id}"]').focus()
            page.keyboard.press("m")
            dialog = page.get_by_role("dialog")
            expect(dialog).to_be_visible()
            expect(dialog.get_by_label("Technician", exact=True)).to_be_focused()
            expect(dialog).to_contain_text("Move J-")
            dialog.get_by_label("Day", exact=True).fill("2020-01-01")
            dialog.get_by_label("Start (UTC)").select_option("10:00")
            page.keyboard.press("Enter")
            expect(page.locator("#move-result")).to_contain_text("in the past")
            page.screenshot(path=str(SHOTS / "board-move-refused-past.png"))

            dialog.get_by_label("Day", exact=True).fill(day.isoformat())
            dialog.get_by_label("Start (UTC)").select_option("02:00")
            dialog.get_by_role("button", name="Move", exact=True).click()
            expect(page.locator("#move-warnings")).to_contain_text("quiet hours")
            with psycopg.connect(database_url, autocommit=True) as conn:
                assert conn.execute("SELECT starts_at FROM visits WHERE id = %s",
                                    (job.visit_id,)).fetchone()[0] == before
            page.screenshot(path=str(SHOTS / "board-move-quiet-hours-warning.png"))
            dialog.get_by_role("button", name="Move anyway").click()
            expect(dialog).to_be_hidden()
            expect(page.locator("#board-msg")).to_contain_text("02:00")
        finally:
            browser.close()


def test_day_and_week_views_of_200_technicians_and_2000_jobs_are_readable(
        database_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with psycopg.connect(database_url, autocommit=True) as conn:
        seeded = seed_board(conn)
        add_scheduler(conn, TZ)
    SHOTS.mkdir(parents=True, exist_ok=True)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=4,
                         clock=lambda: NOW)
    with serve_app(app) as base, sync_playwright() as pw:
        browser = _browser(pw)
        try:
            page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            _sign_in(page, base, "planner@fix.example", f"/board?day={DAY}")
            expect(page.locator("#board a[data-visit]")).to_have_count(2000)
            expect(page.locator("#board .brow[data-tech]")).to_have_count(200)
            page.screenshot(path=str(SHOTS / "board-day-200x2000.png"))
            assert _cut(page, ".tname") == 0, "technician names are cut off"
            assert _cut(page, "a.job b") == 0, "a block's start and fault code are cut off"

            page.goto(f"{base}/board?day={WEEK}&days=7")
            expect(page.locator("#board a[data-visit]")).to_have_count(2000)
            page.screenshot(path=str(SHOTS / "board-week-200x2000.png"))
            assert _cut(page, ".chip b, .chip span") == 0, "a week chip's words are cut off"
            first = page.locator("#board a.chip").first
            assert first.inner_text().split()[0] == "07:10"  # time, fault code, surname, town

            page.goto(f"{base}/board?day={WEEK}&days=7&q=Potsdam")
            expect(page.locator("#board .brow[data-tech]").first).to_be_visible()
            assert page.locator("#board a.chip").count() < 2000
            page.goto(f"{base}/jobs/{seeded.movable[0][0]}")
            expect(page.locator("#job-number")).to_contain_text("J-")
            expect(page.locator("#customer-contact")).to_contain_text("Prefers")
            page.screenshot(path=str(SHOTS / "job-page.png"), full_page=True)
        finally:
            browser.close()
