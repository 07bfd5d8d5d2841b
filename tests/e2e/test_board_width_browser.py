"""The day view with jobs late in the day, in a real headless Chromium at 1366, 1600 and
1920 px: the page is never wider than the window (a long day scrolls inside the board), and
every block's start and fault code stay readable, even when a job runs past midnight.

The jobs sit at fixed local times on the bench board's day, a day after the app's fixed clock:
nothing depends on the hour the test runs at."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from fixahead.lab.bench.boardseed import DAY, NOW, TZ, seed_board
from fixahead.web.board_app import create_web_app
from tests.support.board import SECRET, add_scheduler
from tests.support.board import serve as serve_app
from tests.support.browser import SHOTS, chromium, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]
WIDTHS = (1366, 1600, 1920)

_MEASURE = """() => {
  const b = document.querySelector('#board');
  // (a block cut at midnight shows only its first half hour: its title says the rest)
  const cut = [...b.querySelectorAll('a.job:not(.clipped) b')]
    .filter(e => e.scrollWidth > e.clientWidth + 1);
  // the first row's first block, whole and right of the sticky names (the day opens on it)
  const first = b.querySelector('.brow[data-tech] a.job').getBoundingClientRect();
  const box = b.getBoundingClientRect(), names = b.querySelector('.tech').getBoundingClientRect();
  return {page: document.documentElement.scrollWidth, window: document.documentElement.clientWidth,
          board: b.clientWidth, inner: b.scrollWidth, cut: cut.length, scrolled: b.scrollLeft,
          opens: first.left >= names.right - 1 && first.right <= box.left + b.clientWidth,
          marks: [...b.querySelectorAll('.bhead .mark')].map(m => m.textContent)};
}"""


def _last_job_to(conn: psycopg.Connection, technician_id: int, start: datetime,
                 minutes: int) -> int:
    """Move the technician's last job of DAY to `start`; its visit id."""
    row = conn.execute("SELECT id FROM visits WHERE technician_id = %s AND starts_at::date = %s "
                       "ORDER BY starts_at DESC LIMIT 1", (technician_id, DAY)).fetchone()
    assert row is not None
    vid: int = row[0]
    conn.execute("UPDATE visits SET starts_at = %s, ends_at = %s WHERE id = %s",
                 (start, start + timedelta(minutes=minutes), vid))
    return vid


def _look(page: Any, base: str, name: str) -> dict[str, Any]:
    page.goto(f"{base}/board?day={DAY}")
    page.wait_for_selector("#board a[data-visit]")
    page.screenshot(path=str(SHOTS / name))
    return dict(page.evaluate(_MEASURE))


def test_a_day_with_late_jobs_is_never_wider_than_the_window_and_its_blocks_stay_readable(
        database_url: str) -> None:
    from playwright.sync_api import sync_playwright

    zone = ZoneInfo(TZ)
    with psycopg.connect(database_url, autocommit=True) as conn:
        seeded = seed_board(conn, techs=20, jobs=200)  # 07:10-16:10 each, working 07-17
        add_scheduler(conn, TZ)
        late = _last_job_to(conn, seeded.technicians[0], datetime.combine(DAY, time(20, 15),
                                                                          zone), 45)
    SHOTS.mkdir(parents=True, exist_ok=True)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=4,
                         clock=lambda: NOW)
    with serve_app(app) as base, sync_playwright() as pw:
        browser = chromium(pw)
        try:
            seen: dict[tuple[str, int], dict[str, Any]] = {}
            for width in WIDTHS:
                page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
                sign_in(page, base, "planner@fix.example", f"/board?day={DAY}")
                seen["21:00", width] = _look(page, base, f"board-day-until-21-{width}.png")
                assert page.locator(f'#board a[data-visit="{late}"]').count() == 1
                page.context.close()
            with psycopg.connect(database_url, autocommit=True) as conn:
                _last_job_to(conn, seeded.technicians[1], datetime.combine(DAY, time(23, 30),
                                                                           zone), 60)
            for width in WIDTHS:
                page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
                sign_in(page, base, "planner@fix.example", f"/board?day={DAY}")
                seen["00:30", width] = _look(page, base, f"board-day-past-midnight-{width}.png")
                if width == 1600:  # a live refresh keeps where the scheduler scrolled to
                    page.evaluate("""() => { const b = document.querySelector('#board');
                        b.scrollLeft = 1000; b.dataset.old = '1'; htmx.trigger(b, 'refresh'); }""")
                    page.wait_for_function("!document.querySelector('#board').dataset.old")
                    page.wait_for_timeout(300)
                    kept = page.evaluate("document.querySelector('#board').scrollLeft")
                page.context.close()
        finally:
            browser.close()
    for (until, width), m in seen.items():
        assert m["page"] <= m["window"], f"page {m['page']} px wide in {width} px (to {until})"
        assert m["cut"] == 0, f"{m['cut']} blocks' start and fault cut at {width} px ({until})"
        assert m["opens"], f"the day opens away from its first job at {width} px ({until})"
    assert seen["21:00", 1600]["marks"][-1] == "20"  # the axis reaches the late job
    assert seen["00:30", 1600]["marks"][-1] == "23"
    assert kept == 1000
