"""Operators see fleet incidents on the web: the storms page lists a real storm held by the
guard, the board warns that it holds customer emails, and a scheduler's release (not a
viewer's) dispatches them, as `fixahead storms release` does."""

from __future__ import annotations

import re
from datetime import timedelta

import psycopg
import pytest

from fixahead.web.board_app import create_web_app
from tests.support.board import PASSWORD, SECRET
from tests.support.incidents import T0, emails
from tests.support.storms import CFG
from tests.support.web import TestClient

pytestmark = pytest.mark.integration


def _client(url: str) -> TestClient:
    return TestClient(create_web_app(url, secret=SECRET, secure_cookies=False, pool_max=2,
                                     live=False, storms=CFG,
                                     clock=lambda: T0 + timedelta(hours=1)))


def _sign_in(client: TestClient, email: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token,
                                    "next": "/storms"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _release_form(html: str) -> dict[str, str]:
    form = re.search(r'<form method="post" action="/storms/release">(.*?)</form>', html, re.S)
    assert form is not None, "no Release button"
    return dict(re.findall(r'name="(csrf_token|key)" value="([^"]+)"', form.group(1)))


def test_the_storms_page_lists_the_fleet_incident_with_its_held_emails(
        database_url: str, storm: dict[str, str]) -> None:
    with _client(database_url) as client:
        _sign_in(client, storm["viewer"])
        page = client.get("/storms")
    assert page.status_code == 200
    row = re.search(r'<tr data-key="fleet:WM-800:E21:\d+">(.*?)</tr>', page.text, re.S)
    assert row is not None, page.text
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert cells[:2] == ["WM-800", "E21"]
    assert cells[3:5] == ["100", "100"]  # devices linked, emails held
    assert "open" in cells[5]
    assert "/storms/release" not in page.text  # a viewer gets no Release button
    assert '<a href="/storms">Storms</a>' in page.text


def test_the_board_says_a_fleet_incident_holds_customer_emails(
        database_url: str, storm: dict[str, str]) -> None:
    with _client(database_url) as client:
        _sign_in(client, storm["viewer"])
        board = client.get("/board")
    assert board.status_code == 200
    text = re.sub(r"<[^>]+>", "", board.text)
    assert "1 fleet incident holds 100 customer emails: review" in text
    assert 'class="storm-banner"' in board.text and 'href="/storms">review</a>' in board.text


def test_a_schedulers_release_dispatches_the_held_emails_and_a_viewers_is_refused(
        database_url: str, storm: dict[str, str]) -> None:
    with _client(database_url) as scheduler, _client(database_url) as viewer:
        _sign_in(scheduler, storm["scheduler"])
        form = _release_form(scheduler.get("/storms").text)
        _sign_in(viewer, storm["viewer"])
        viewer_csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                                viewer.get("/storms").text).group(1)
        refused = viewer.post("/storms/release", data={**form, "csrf_token": viewer_csrf},
                              follow_redirects=False)
        assert refused.status_code == 403
        stale = scheduler.post("/storms/release", data={"key": form["key"]},
                               follow_redirects=False)
        assert stale.status_code == 403  # no CSRF token
        with psycopg.connect(database_url, autocommit=True) as conn:
            assert emails(conn) == 0
        done = scheduler.post("/storms/release", data=form, follow_redirects=False)
        assert done.status_code == 303
        page = scheduler.get(done.headers["location"])
        assert "100 decided now" in page.text
        assert "released" in page.text and "/storms/release" not in page.text
        again = scheduler.post("/storms/release", data=form, follow_redirects=False)
        assert again.status_code == 409  # a second click dispatches nothing twice
        board = scheduler.get("/board")
    assert 'class="storm-banner"' not in board.text
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert emails(conn) == 100
        held = dict(conn.execute("SELECT state, count(*) FROM dispatch_holds GROUP BY 1"))
    assert held == {"dispatched": 100}
