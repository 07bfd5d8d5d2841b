"""Shared fixtures. Integration tests get real PostgreSQL and a real MQTT broker.

PostgreSQL: `FIXAHEAD_TEST_DATABASE_URL` names a server where each test creates and drops a
database of its own; without it, an embedded PostgreSQL is started for the session.
MQTT: Mosquitto with the project's config when the binary is installed, else amqtt.
Every test that uses the database is marked `database` (`pytest -m database`): CI runs those
again on a TimescaleDB cluster (.ci/run).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixahead.services import prepare_database
from tests.support.services import broker, free_port, fresh_database


def pytest_configure(config: pytest.Config) -> None:
    """Register the `database` marker (set below, never by hand). Warnings are errors
    (pyproject), except one that no test can own: asyncio's "unclosed transport"
    ResourceWarning, raised when the garbage collector meets the transport of an SMTP client
    or sink whose event loop an earlier test closed; it lands on whichever test runs then
    (seen failing a reminder test and a port-taken test, both passing on their own)."""
    config.addinivalue_line(
        "markers", "database: uses PostgreSQL (CI runs these on TimescaleDB too)")
    config.addinivalue_line("filterwarnings", "ignore:unclosed transport:ResourceWarning")
    config.addinivalue_line(
        "filterwarnings", "ignore:Exception ignored in. <function _SelectorTransport.__del__"
        ":pytest.PytestUnraisableExceptionWarning")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reaches the database, directly or through another fixture."""
    for item in items:
        if "admin_database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.database)


@pytest.fixture(scope="session")
def admin_database_url() -> Iterator[str]:
    """A URL of a PostgreSQL server where tests may create databases."""
    url = os.environ.get("FIXAHEAD_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from fixahead.embedded_pg import EmbeddedPostgres

    base = Path("/var/lib/fixahead-test") if os.geteuid() == 0 else Path(tempfile.gettempdir())
    pg = EmbeddedPostgres(base / f"pg-{os.getpid()}", free_port())
    pg.start()
    try:
        yield f"postgresql://postgres@127.0.0.1:{pg.port}/postgres"
    finally:
        pg.destroy()


@pytest.fixture
def database_url(admin_database_url: str) -> Iterator[str]:
    """A fresh, migrated database with the catalog loaded, dropped after the test."""
    with fresh_database(admin_database_url) as url:
        prepare_database(url)
        yield url


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    """A broker shared by the session; tests keep apart by their own topic prefix."""
    with broker() as url:
        yield url


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix no other test uses."""
    return f"fxtest/{uuid.uuid4().hex[:10]}/v1"
