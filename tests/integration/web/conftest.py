"""An API client on a fresh database, and a token per role; the whole web app (`web`), a
connection (`conn`) and a held storm (`storm`) from tests.support."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from fixahead.web.app import create_app
from fixahead.web.auth import create_token
from tests.support.storms import storm
from tests.support.web import TestClient, conn, web

__all__ = ["client", "conn", "storm", "tokens", "web"]  # the fixtures of this folder


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """A test client of the app (its lifespan, so its pool, runs for the test)."""
    with TestClient(create_app(database_url, pool_max=2)) as test_client:
        yield test_client


@pytest.fixture
def tokens(database_url: str) -> dict[str, dict[str, str]]:
    """Authorization headers per role."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        return {role: {"Authorization": "Bearer " + create_token(conn, role=role, name=role,
                                                                  actor="test")}
                for role in ("admin", "scheduler", "viewer")}
