"""More of the board in a real headless Chromium, each change checked in the database and in
the customer's email: a drop on a cell of the week view moves the job to that day and
technician at the same time of day; the "Place…" button and the M key book and move a job
with the keyboard alone; a job dragged from the list onto the day view is booked there."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from fixahead.web.board_app import create_web_app
from tests.support.board import SECRET, Seeded, add_people, now_utc, seed_job
from tests.support.board import serve as serve_app
from tests.support.browser import SHOTS, chromium, day_point, drag, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BERLIN = ZoneInfo("Europe/Berlin")


def _berlin_scheduler(conn: psycopg.Connection) -> str:
    people = add_people(conn)
    conn.execute("UPDATE web_users SET time_zone = 'Europe/Berlin' WHERE email = %s",
                 (people["scheduler"],))
    return people["scheduler"]


def _emails(conn: psycopg.Connection) -> list[tuple[str, str, str, str]]:
    return conn.execute("SELECT kind, to_addr, payload->'visit'->>'start', payload->>'change' "
                        "FROM email_outbox ORDER BY id").fetchall()


def _release(conn: psycopg.Connection, job: Seeded) -> None:
    """The job's hold lapsed: it waits in the list for a scheduler."""
    conn.execute("UPDATE visits SET state = 'released' WHERE id = %s", (job.visit_id,))


def test_dropping_a_job_on_a_week_view_cell_moves_it_to_that_day_and_technician(
        database_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    tomorrow = (datetime.now(BERLIN) + timedelta(days=1)).date()
    start = datetime.combine(tomorrow, time(11, 0), BERLIN)
    with psycopg.connect(database_url, autocommit=True) as conn:
        scheduler = _berlin_scheduler(conn)
        job = seed_job(conn, now=now_utc(), technicians=2)
        # a known start, 11:00 in the scheduler's zone, so the drop's time can be checked
        conn.execute("UPDATE visits SET starts_at = %s, ends_at = %s + (ends_at - starts_at) "
                     "WHERE id = %s", (start, start, job.visit_id))
        held_by, minutes = conn.execute(
            "SELECT technician_id, extract(epoch FROM ends_at - starts_at) / 60 FROM visits "
            "WHERE id = %s", (job.visit_id,)).fetchone()
        emails_before = len(_emails(conn))
    other = next(t for t in job.technicians if t != held_by)
    target = datetime.combine(tomorrow + timedelta(days=2), time(11, 0), BERLIN)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=4)
    with serve_app(app) as base, sync_playwright() as pw:
        browser = chromium(pw)
        try:
            page = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
            sign_in(page, base, scheduler, f"/board?day={tomorrow.isoformat()}&days=7")
            expect(page.locator("#board")).to_have_class("board days-7 agenda")
            chip = page.locator(f'.brow[data-tech="{held_by}"] .day[data-col="0"] '
                                f'a[data-visit="{job.visit_id}"]')
            expect(chip).to_contain_text("11:00 E60")
            cell = page.locator(f'.brow[data-tech="{other}"] .day[data-col="2"]')
            load_before = cell.locator(".load").inner_text()
            box = cell.bounding_box()
            assert box is not None
            drag(page, chip, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            # a week cell keeps the job's time of day: the ghost says when it would start
            expect(cell.locator(".ghost")).to_contain_text("11:00")
            page.screenshot(path=str(SHOTS / "board-week-drag-in-progress.png"))
            page.mouse.up()
            msg = page.locator("#board-msg")
            expect(msg).to_contain_text(f"is with Tech 1-{job.technicians.index(other)} on "
                                        f"{target:%a %d %b} 11:00", timeout=10_000)
            expect(msg).to_contain_text("The customer will get an email")
            moved = cell.locator(f'a[data-visit="{job.visit_id}"]')
            expect(moved).to_be_visible(timeout=10_000)
            expect(moved).to_contain_text("11:00 E60")
            expect(page.locator(f'.brow[data-tech="{held_by}"] a[data-visit]')).to_have_count(0)
            expect(cell.locator(".load")).not_to_have_text(load_before)  # its day's load grew
            page.screenshot(path=str(SHOTS / "board-week-after-drop.png"))
        finally:
            browser.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT technician_id, starts_at, "
                           "extract(epoch FROM ends_at - starts_at) / 60 FROM visits "
                           "WHERE id = %s", (job.visit_id,)).fetchone()
        assert row == (other, target, minutes)
        mails = _emails(conn)
        assert len(mails) == emails_before + 1
        assert mails[-1] == ("confirmation", "ada1@example.org",
                             target.astimezone(UTC).isoformat(), "moved")
        trail = conn.execute("SELECT action FROM audit_log WHERE subject_type = 'visit' "
                             "AND subject_id = %s", (str(job.visit_id),)).fetchall()
        assert trail == [("job.move",)]


def test_a_job_is_placed_from_the_list_and_moved_again_with_the_keyboard_alone(
        database_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    day = (datetime.now(BERLIN) + timedelta(days=2)).date()
    with psycopg.connect(database_url, autocommit=True) as conn:
        scheduler = _berlin_scheduler(conn)
        job = seed_job(conn, now=now_utc(), technicians=2)
        _release(conn, job)
        (number,) = conn.execute("SELECT number FROM job_numbers WHERE incident_id = %s",
                                 (job.incident_key,)).fetchone()
        emails_before = len(_emails(conn))
    first, second = job.technicians
    placed_at = datetime.combine(day, time(13, 15), BERLIN)
    moved_at = datetime.combine(day + timedelta(days=1), time(10, 30), BERLIN)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=4)
    with serve_app(app) as base, sync_playwright() as pw:
        browser = chromium(pw)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            sign_in(page, base, scheduler, f"/board?day={day.isoformat()}")
            dialog = page.get_by_role("dialog")
            item = page.locator(f'#side li[data-incident="{job.incident_key}"]')
            expect(item).to_contain_text(f"J-{number}")
            item.get_by_role("link").focus()
            page.keyboard.press("Tab")  # from the job's link to its "Place…" button
            expect(item.get_by_role("button", name="Place…")).to_be_focused()
            page.keyboard.press("Enter")
            expect(dialog).to_be_visible()
            expect(dialog.get_by_role("heading")).to_have_text(f"Place J-{number}")
            tech = dialog.get_by_label("Technician", exact=True)
            expect(tech).to_be_focused()
            expect(tech).to_have_value(str(first))
            page.keyboard.press("ArrowDown")  # the second technician
            expect(tech).to_have_value(str(second))
            page.keyboard.press("Tab")
            expect(dialog.get_by_label("Day", exact=True)).to_be_focused()
            dialog.get_by_label("Day", exact=True).fill(day.isoformat())
            start = dialog.get_by_label("Start (Europe/Berlin)")
            start.select_option("13:15")
            page.keyboard.press("Enter")
            expect(dialog).to_be_hidden(timeout=10_000)
            msg = page.locator("#board-msg")
            expect(msg).to_contain_text(f"J-{number} is with Tech 1-1 on "
                                        f"{placed_at:%a %d %b} 13:15")
            expect(msg).to_contain_text("The customer will get an email")
            expect(page.locator(f'#side li[data-incident="{job.incident_key}"]')
                   ).to_have_count(0, timeout=10_000)
            block = page.locator(f'.brow[data-tech="{second}"] a.job')
            expect(block).to_contain_text("13:15 E60", timeout=10_000)
            with psycopg.connect(database_url, autocommit=True) as conn:
                visit_id, state, who, at = conn.execute(
                    "SELECT id, state, technician_id, starts_at FROM visits "
                    "WHERE incident_id = %s AND id <> %s", (job.incident_key, job.visit_id)
                ).fetchone()
            assert (state, who, at) == ("booked", second, placed_at)

            # the booked job, moved by the keyboard: M on it, back to the first technician
            page.locator(f'a[data-visit="{visit_id}"]').focus()
            page.keyboard.press("m")
            expect(dialog.get_by_role("heading")).to_have_text(f"Move J-{number}")
            expect(tech).to_be_focused()
            expect(tech).to_have_value(str(second))  # the dialog starts where the job is
            expect(start).to_have_value("13:15")
            page.keyboard.press("ArrowUp")
            expect(tech).to_have_value(str(first))
            dialog.get_by_label("Day", exact=True).fill(moved_at.date().isoformat())
            start.select_option("10:30")
            page.keyboard.press("Enter")
            expect(dialog).to_be_hidden(timeout=10_000)
            expect(msg).to_contain_text(f"J-{number} is with Tech 1-0 on "
                                        f"{moved_at:%a %d %b} 10:30")
            page.screenshot(path=str(SHOTS / "board-after-keyboard-place-and-move.png"))
        finally:
            browser.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT state, technician_id, starts_at FROM visits WHERE id = %s",
                            (visit_id,)).fetchone() == ("booked", first, moved_at)
        mails = _emails(conn)
        assert len(mails) == emails_before + 2
        assert [m[:3] for m in mails[-2:]] == [
            ("confirmation", "ada1@example.org", placed_at.astimezone(UTC).isoformat()),
            ("confirmation", "ada1@example.org", moved_at.astimezone(UTC).isoformat())]
        assert mails[-1][3] == "moved"
        trail = conn.execute("SELECT action FROM audit_log WHERE subject_type = 'visit' "
                             "AND subject_id = %s ORDER BY id", (str(visit_id),)).fetchall()
        assert trail == [("job.dispatch",), ("job.move",)]


def test_dragging_a_job_from_the_list_onto_the_day_view_books_it_there(
        database_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    day: date = (now_utc() + timedelta(days=1)).date()
    with psycopg.connect(database_url, autocommit=True) as conn:
        people = add_people(conn)  # the scheduler shows times in UTC
        job = seed_job(conn, now=now_utc(), technicians=2)
        _release(conn, job)
        emails_before = len(_emails(conn))
    tech = job.technicians[1]
    target = datetime.combine(day, time(14, 0), UTC)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=4)
    with serve_app(app) as base, sync_playwright() as pw:
        browser = chromium(pw)
        try:
            page = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
            sign_in(page, base, people["scheduler"], f"/board?day={day.isoformat()}")
            item = page.locator(f'#side li[data-incident="{job.incident_key}"]')
            cell = page.locator(f'.brow[data-tech="{tech}"] .day[data-col="0"]')
            # nothing booked, technicians working all day: the axis runs 00-24
            drag(page, item.locator("small"), *day_point(cell, 14 / 24))
            expect(cell.locator(".ghost")).to_contain_text("14:00")
            page.mouse.up()
            msg = page.locator("#board-msg")
            expect(msg).to_contain_text(f"is with Tech 1-1 on {target:%a %d %b} 14:00",
                                        timeout=10_000)
            expect(msg).to_contain_text("The customer will get an email")
            expect(cell.locator("a.job")).to_contain_text("14:00 E60", timeout=10_000)
            expect(item).to_have_count(0)
            page.screenshot(path=str(SHOTS / "board-after-list-drop.png"))
        finally:
            browser.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        visits = conn.execute("SELECT state, technician_id, starts_at FROM visits "
                              "WHERE incident_id = %s AND id <> %s",
                              (job.incident_key, job.visit_id)).fetchall()
        assert visits == [("booked", tech, target)]
        mails = _emails(conn)
        assert len(mails) == emails_before + 1
        assert mails[-1][:3] == ("confirmation", "ada1@example.org", target.isoformat())
