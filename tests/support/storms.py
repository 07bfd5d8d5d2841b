"""A storm the guard really held: 100 of 200 washers opened E21 within a minute, the follower
ran past the settle time, and no customer was emailed. `storm` is a fixture, registered by
the conftest.py of the folders whose tests use it."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from dispatch.storm import StormConfig
from fixahead.roles import IncidentFollower
from tests.support.board import add_people
from tests.support.incidents import T0, add_customer_device, drain_fault, emails, store

CFG = StormConfig(settle_ms=10 * 60_000)


@pytest.fixture
def storm(database_url: str) -> dict[str, str]:
    """A database where 100 of 200 washers opened E21 within a minute (one held storm), and
    people of each role."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        devices = [add_customer_device(conn, f"w{i}") for i in range(200)]
        for i, dev in enumerate(devices[:100]):
            store(conn, "opened", drain_fault(dev, T0 + timedelta(seconds=0.6 * i)))
        for minutes in (0, 11):
            IncidentFollower(storms=CFG, clock=lambda m=minutes: T0 + timedelta(minutes=m)
                             ).step(conn)
        assert emails(conn) == 0
        return add_people(conn)
