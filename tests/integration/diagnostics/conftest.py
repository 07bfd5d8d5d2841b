"""Fixtures of the diagnostics integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.diagnostics import Setup, running_setup


@pytest.fixture
def setup(database_url: str) -> Iterator[Setup]:
    """Two devices, Mosquitto on the generated files, the platform's link running."""
    with running_setup(database_url) as s:
        yield s
