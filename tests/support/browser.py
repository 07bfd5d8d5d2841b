"""Debian's Chromium under Playwright for the board's browser tests: launch it, sign in, and
where the screenshots go."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.board import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]
SHOTS = Path(os.environ.get("FIXAHEAD_SHOTS")
             or Path(__file__).resolve().parents[2] / "artifacts")


def chromium(pw: Any) -> Any:
    """A headless Chromium; the test fails saying how to get it when it is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)


def sign_in(page: Any, base: str, email: str, path: str) -> None:
    """Sign in through the login form and land on `path`."""
    page.goto(f"{base}/login?" + urlencode({"next": path}))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{path}")


def drag(page: Any, source: Any, x: float, y: float) -> None:
    """Press on `source`, move to (x, y) in steps (Chromium starts a native drag and fires
    dragover on the way) and hold there: the caller looks, then calls `page.mouse.up()`."""
    box = source.bounding_box()
    assert box is not None, "the thing to drag is not on screen"
    page.mouse.move(box["x"] + min(8, box["width"] / 2), box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(x - 40, y, steps=5)
    page.mouse.move(x, y, steps=5)


def day_point(cell: Any, frac: float) -> tuple[float, float]:
    """Where `frac` of a day-view cell's hours lies on screen, scrolled into the board's view
    first: a long day (00-24 when technicians work all day) is wider than the board and
    scrolls inside it, so the whole cell is not on screen at once."""
    cell.evaluate("""(c, f) => {
        const b = c.closest('#board'), x = c.getBoundingClientRect().left + c.offsetWidth * f;
        const lo = b.querySelector('.tech').getBoundingClientRect().right;
        const hi = b.getBoundingClientRect().left + b.clientWidth;
        if (x > hi - 54) b.scrollLeft += x - hi + 108;
        else if (x < lo + 54) b.scrollLeft -= lo + 108 - x; }""", frac)
    box = cell.bounding_box()
    assert box is not None, "the cell is not on screen"
    return box["x"] + box["width"] * frac + 1, box["y"] + box["height"] / 2
