"""A rules worker against PostgreSQL: incidents stored, work handed over between workers."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from devices.catalog import load_catalog
from devices.store import register_device
from rules.compiler import compile_rules
from rules.engine import Engine
from rules.loader import load_packs
from rules.service import RulesService

pytestmark = pytest.mark.integration
DAY = 86_400_000
T0 = 1_767_225_600_000


@pytest.fixture(scope="module")
def parts():
    catalog = load_catalog()
    return compile_rules(load_packs(catalog), catalog), catalog


def _washers(conn: psycopg.Connection, n: int) -> list[int]:
    return [register_device(conn, f"wm-{i}", "WM-800") for i in range(n)]


def _drains(keys: list[int], days: range) -> tuple[np.ndarray, ...]:
    """One wash a day per washer; drain time grows 8 s a day for the odd ones."""
    ts, dev, val = [], [], []
    for day in days:
        for k in keys:
            ts.append(T0 + day * DAY + k * 1000)
            dev.append(k)
            val.append(60.0 + (8.0 * day if k % 2 else 0.0) + (k % 5))
    n = len(ts)
    return (np.array(ts, np.int64), np.array(dev, np.int32), np.full(n, 3, np.int16),
            np.array(val))


def test_an_error_event_becomes_a_stored_incident(database_url: str, parts) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        [key] = _washers(conn, 1)
        svc = RulesService(conn, Engine(*parts), owner="w1")
        assert svc.claim() == [0]
        empty = np.array([], np.int64)
        svc.handle(empty, empty.astype(np.int32), empty.astype(np.int16), np.array([]),
                   [(T0, key, 1, "error", "E90", None, None, None, True)])
        row = conn.execute("SELECT fault, kind, state, action FROM incidents").fetchone()
        changes = conn.execute("SELECT change FROM incident_changes").fetchall()
    assert row == ("E90", "error", "open", "technician")
    assert changes == [("opened",)]


def test_a_worker_taking_over_continues_exactly_where_the_first_stopped(
        database_url: str, parts) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        keys = _washers(conn, 6)
        first = RulesService(conn, Engine(*parts), owner="a", partitions=2)
        assert first.claim() == [0, 1]
        second = RulesService(conn, Engine(*parts), owner="b", partitions=2)
        assert second.claim() == []  # leases held by "a"
        first.handle(*_drains(keys, range(0, 15)))
        first.close()
        assert second.claim() == [0, 1]
        resumed = second.handle(*_drains(keys, range(15, 30)))
        stored = conn.execute("SELECT count(*) FROM incidents WHERE fault = 'E21'").fetchone()

    alone = Engine(*parts)
    alone.assign(keys, ["WM-800"] * len(keys))
    alone.process(*_drains(keys, range(0, 15)))
    expected = alone.process(*_drains(keys, range(15, 30)))
    assert [(c.change, c.incident.key) for c in resumed] == \
        [(c.change, c.incident.key) for c in expected]
    assert stored[0] == 3  # the three odd washers with a wearing pump
