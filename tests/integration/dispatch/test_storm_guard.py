"""The storm guard against PostgreSQL: many devices opening one code at once become one fleet
incident, and nobody is emailed until an operator releases it; the hourly cap holds the rest."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from dispatch.storm import StormConfig
from fixahead.roles import DISPATCH, IncidentFollower, RoleMetrics
from fixahead.storms import release_storm
from tests.support.incidents import T0, add_customer_device, drain_fault, emails, store

pytestmark = pytest.mark.integration


def _open(conn: psycopg.Connection, devices: list[int], spread: timedelta) -> None:
    for i, dev in enumerate(devices):
        store(conn, "opened", drain_fault(dev, T0 + spread * i / len(devices)))


def test_a_hundred_devices_raising_one_code_within_a_minute_are_one_fleet_incident(
        database_url: str) -> None:
    cfg = StormConfig(settle_ms=10 * 60_000)
    with psycopg.connect(database_url, autocommit=True) as conn:
        devices = [add_customer_device(conn, f"s{i}") for i in range(200)]
        _open(conn, devices[:100], timedelta(minutes=1))
        for minutes in (0, 5, 11, 30):  # the platform's clock moves on past the settle time
            follower = IncidentFollower(storms=cfg, clock=lambda m=minutes: T0 + timedelta(
                minutes=m))
            follower.step(conn)
        fleets = conn.execute("SELECT model_id, fault, devices, state FROM fleet_incidents"
                              ).fetchall()
        held = conn.execute("SELECT state, count(*) FROM dispatch_holds GROUP BY 1").fetchall()
        assert fleets == [("WM-800", "E21", 100, "open")]
        assert held == [("storm", 100)]
        assert emails(conn) == 0
        [key] = [r[0] for r in conn.execute("SELECT key FROM fleet_incidents")]
        assert release_storm(conn, key, cfg, T0 + timedelta(hours=1)) == 100
        assert emails(conn) == 100


def test_a_few_devices_with_the_same_code_are_dispatched_after_settling(
        database_url: str) -> None:
    cfg = StormConfig(settle_ms=10 * 60_000)
    with psycopg.connect(database_url, autocommit=True) as conn:
        devices = [add_customer_device(conn, f"f{i}") for i in range(200)]
        _open(conn, devices[:3], timedelta(minutes=1))
        IncidentFollower(storms=cfg, clock=lambda: T0 + timedelta(minutes=5)).step(conn)
        assert emails(conn) == 0  # still settling
        IncidentFollower(storms=cfg, clock=lambda: T0 + timedelta(minutes=12)).step(conn)
        assert emails(conn) == 3
        assert conn.execute("SELECT count(*) FROM fleet_incidents").fetchone()[0] == 0


def test_the_hourly_cap_holds_the_excess_and_shows_it(database_url: str) -> None:
    cfg = StormConfig(cap_per_hour=4, min_count=1000, count=1000)  # no storm, only the cap
    with psycopg.connect(database_url, autocommit=True) as conn:
        devices = [add_customer_device(conn, f"c{i}") for i in range(10)]
        _open(conn, devices, timedelta(minutes=30))
        IncidentFollower(storms=cfg, clock=lambda: T0 + timedelta(minutes=31)).step(conn)
        assert emails(conn) == 4
        held = dict(conn.execute("SELECT state, count(*) FROM dispatch_holds GROUP BY 1"))
        assert held == {"dispatched": 4, "capped": 6}
        IncidentFollower(storms=cfg, clock=lambda: T0 + timedelta(minutes=95)).step(conn)
        assert emails(conn) == 8


def _gauge(m: RoleMetrics, name: str) -> float | None:
    return m.registry.get_sample_value(name)


def test_dispatch_reports_held_emails_open_fleet_incidents_and_capped_ones(
        database_url: str) -> None:
    cfg = StormConfig(settle_ms=10 * 60_000, cap_per_hour=3)
    m = RoleMetrics(DISPATCH)
    with psycopg.connect(database_url, autocommit=True) as conn:
        devices = [add_customer_device(conn, f"g{i}") for i in range(60)]
        _open(conn, devices[:50], timedelta(minutes=1))  # WM-800 E21 on 50 of 60: a storm
        IncidentFollower(storms=cfg, clock=lambda: T0 + timedelta(minutes=11)).step(conn, m)
        assert _gauge(m, "fixahead_dispatch_held_emails") == 50
        assert _gauge(m, "fixahead_dispatch_fleet_incidents_open") == 1
        assert _gauge(m, "fixahead_dispatch_capped_emails") == 0
        [key] = [r[0] for r in conn.execute("SELECT key FROM fleet_incidents")]
        assert release_storm(conn, key, cfg, T0 + timedelta(minutes=12)) == 3  # the cap
        IncidentFollower(storms=cfg, clock=lambda: T0 + timedelta(minutes=13)).step(conn, m)
        assert _gauge(m, "fixahead_dispatch_held_emails") == 0
        assert _gauge(m, "fixahead_dispatch_fleet_incidents_open") == 0
        assert _gauge(m, "fixahead_dispatch_capped_emails") == 47
        assert emails(conn) == 3


def _storm(conn: psycopg.Connection, prefix: str, cfg: StormConfig) -> tuple[str, list[int]]:
    """A storm of 50 of 60 washers (held, nobody emailed); its key and the 50 devices."""
    devices = [add_customer_device(conn, f"{prefix}{i}") for i in range(60)]
    _open(conn, devices[:50], timedelta(minutes=1))
    IncidentFollower(storms=cfg, clock=lambda: T0 + timedelta(minutes=11)).step(conn)
    [key] = [r[0] for r in conn.execute("SELECT key FROM fleet_incidents")]
    return key, devices[:50]


def _resolve(conn: psycopg.Connection, stormed: list[int], which: slice) -> None:
    """Resolve the incidents `_open` opened on stormed[which] (each at its own minute)."""
    for i, dev in list(enumerate(stormed))[which]:
        opened = T0 + timedelta(minutes=1) * i / len(stormed)
        store(conn, "resolved", drain_fault(dev, opened, state="resolved", version=2,
                                            updated=T0 + timedelta(minutes=20)))


def test_a_storm_whose_incidents_all_closed_clears_itself_once_quiet(database_url: str) -> None:
    cfg = StormConfig(settle_ms=10 * 60_000)
    with psycopg.connect(database_url, autocommit=True) as conn:
        _, stormed = _storm(conn, "q", cfg)
        _resolve(conn, stormed, slice(0, 49))
        IncidentFollower(storms=cfg, clock=lambda: T0 + timedelta(hours=2)).step(conn)
        assert conn.execute("SELECT state FROM fleet_incidents").fetchone()[0] == "open"
        _resolve(conn, stormed, slice(49, None))
        IncidentFollower(storms=cfg, clock=lambda: T0 + timedelta(hours=2)).step(conn)
        assert conn.execute("SELECT state FROM fleet_incidents").fetchone()[0] == "cleared"
        held = conn.execute("SELECT state, count(*) FROM dispatch_holds GROUP BY 1").fetchall()
        assert held == [("dropped", 50)] and emails(conn) == 0


def test_a_release_drops_the_held_emails_of_incidents_that_closed(database_url: str) -> None:
    cfg = StormConfig(settle_ms=10 * 60_000)
    with psycopg.connect(database_url, autocommit=True) as conn:
        key, stormed = _storm(conn, "r", cfg)
        _resolve(conn, stormed, slice(0, 10))
        assert release_storm(conn, key, cfg, T0 + timedelta(minutes=30)) == 40
        held = dict(conn.execute("SELECT state, count(*) FROM dispatch_holds GROUP BY 1"))
        assert held == {"dropped": 10, "dispatched": 40} and emails(conn) == 40
