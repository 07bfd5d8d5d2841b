"""The customer pages (the links in emails) served in-process on a test database, with a clock
the test moves, and a proposed visit to act on. `env` is a fixture, registered by the
conftest.py of tests/integration/dispatch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi import FastAPI

from dispatch import adapter
from dispatch.customer_pages import PagesContext, router
from dispatch.links import sign
from dispatch.service import Outcome, handle_incident
from dispatch.types import FaultInfo, IncidentInfo
from tests.support.dispatch import PORTS, add_customer, add_technicians
from tests.support.web import TestClient

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = b"pages-secret"
MOTOR = FaultInfo("E50", "Motor fault", skill="washer", visit_minutes=60)


class Env:
    """The customer pages' app on `url`, its test client, and its clock (`now`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.now = NOW
        app = FastAPI()
        app.include_router(router)

        @contextmanager
        def connect() -> Iterator[psycopg.Connection]:
            with psycopg.connect(url, autocommit=True) as c:
                yield c

        app.state.customer_pages = PagesContext(connect=connect, secret=SECRET, ports=PORTS,
                                                clock=lambda: self.now)
        self.client = TestClient(app)

    def link(self, action: str, subject: object, hours: float = 24) -> str:
        """A signed link for `action` on `subject`, valid `hours` from NOW."""
        return "/c/" + sign(SECRET, action, str(subject), NOW + timedelta(hours=hours))


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    """The customer pages on the test's database, their client running."""
    e = Env(database_url)
    with e.client:
        yield e


def propose(url: str, language: str = "en", fault: FaultInfo = MOTOR) -> Outcome:
    """Customer cus-1 with washer d1 and two technicians; incident inc-1 with `fault` handled
    at NOW (for a visit: one proposed)."""
    with psycopg.connect(url, autocommit=True) as conn:
        add_customer(conn, "cus-1", email="ada@example.org", language=language, device_id="d1")
        add_technicians(conn)
        c = adapter.load_customer(conn, customer_id="cus-1")
        assert c
        inc = IncidentInfo("inc-1", "d1", "WM-800", fault, NOW)
        return handle_incident(conn, inc, c, now=NOW, p_home=lambda _: 0.5)
