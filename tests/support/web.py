"""The web API's test client (FastAPI's, over httpx) for tests that call the app in-process;
signing in; and the fixtures `web` (the whole web app) and `conn`, registered by the conftest.py
of tests/integration/web."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import psycopg
import pytest

with warnings.catch_warnings():
    # this starlette asks for `httpx2` and warns when it finds httpx; httpx works for tests
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

from fixahead.web.board_app import create_web_app
from tests.support.board import PASSWORD, SECRET

__all__ = ["TestClient", "conn", "login", "web"]


@pytest.fixture
def web(database_url: str) -> Iterator[TestClient]:
    """The whole web app (live updates off: TestClient does not stream)."""
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=3,
                         live=False)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the test's database."""
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in; the CSRF token of the new session."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"email": email, "password": password, "csrf_token": token,
                                    "next": "/board"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    board = client.get("/board")
    assert board.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', board.text).group(1)

