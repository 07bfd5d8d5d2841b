"""The web API's test client (FastAPI's, over httpx) for tests that call the app in-process."""

from __future__ import annotations

import re
import warnings

with warnings.catch_warnings():
    # this starlette asks for `httpx2` and warns when it finds httpx; httpx works for tests
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

from tests.support.board import PASSWORD

__all__ = ["TestClient", "login"]


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

