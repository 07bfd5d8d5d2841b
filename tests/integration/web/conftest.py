"""An API client on a fresh database, and a token per role."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import psycopg
import pytest

with warnings.catch_warnings():
    # this starlette asks for `httpx2` and warns when it finds httpx; httpx works for tests
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

from fixahead.web.app import create_app
from fixahead.web.auth import create_token


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
