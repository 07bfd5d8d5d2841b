"""Operators see what the database runs on and whether TimescaleDB's policies are applied:
on plain PostgreSQL the page says there is nothing to run; on TimescaleDB (the CI's second
pass) it lists the compression, retention and refresh jobs and the platform's own runs."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from fixahead.storage import drive_due_jobs, has_timescaledb
from fixahead.web.board_app import create_web_app
from tests.support.board import SECRET, add_people
from tests.support.web import TestClient, login

pytestmark = pytest.mark.integration


@pytest.fixture
def viewer(database_url: str) -> Iterator[tuple[TestClient, psycopg.Connection]]:
    """The web app, signed in as a viewer, and a connection to its database."""
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=2,
                         live=False)
    with psycopg.connect(database_url, autocommit=True) as conn, \
            TestClient(app, base_url="http://testserver") as client:
        login(client, add_people(conn)["viewer"])
        yield client, conn


def test_the_storage_page_shows_the_database_and_its_policy_jobs(viewer) -> None:
    client, conn = viewer
    page = client.get("/storage")
    assert page.status_code == 200 and 'href="/storage"' in page.text
    if not has_timescaledb(conn):
        assert "runs <strong>postgresql " in page.text
        assert "No TimescaleDB policy jobs" in page.text
        return
    assert "runs <strong>timescaledb " in page.text
    for kind in ("compression", "retention", "refresh"):
        assert f"<td>{kind}</td>" in page.text, kind
    drive_due_jobs(conn)  # what the dispatch role does every minute
    after = client.get("/storage").text
    assert "Every policy job succeeded within twice its interval." in after
    assert " ok</td>" in after or "Success" in after


def test_the_storage_page_needs_a_session(database_url: str) -> None:
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=2,
                         live=False)
    with TestClient(app, base_url="http://testserver") as client:
        r = client.get("/storage", follow_redirects=False)
    assert r.status_code in (303, 401)
