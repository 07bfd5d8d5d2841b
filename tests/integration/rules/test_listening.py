"""Silence judged only while the platform listened, through PostgreSQL: the listening record
written by the recorder, read back by the rules worker, incidents stored, nobody emailed."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest

from devices.catalog import load_catalog
from fixahead.listening import ListeningRecorder, load_listening
from fixahead.roles import IncidentFollower
from rules.compiler import compile_rules
from rules.engine import Engine
from rules.loader import load_packs
from rules.service import RulesService
from tests.support.incidents import add_customer_device

pytestmark = pytest.mark.integration
MIN = 60_000
HOUR = 60 * MIN
T0 = int(datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def parts():
    catalog = load_catalog()
    return compile_rules(load_packs(catalog), catalog), catalog


def _fridges(conn: psycopg.Connection, n: int) -> list[int]:
    keys = [add_customer_device(conn, f"fr{i}") for i in range(n)]
    conn.execute("UPDATE devices SET model_id = 'FR-300'")
    return keys


def _batch(svc: RulesService, devices: list[int], t: int) -> None:
    n = len(devices)
    svc.handle(np.full(n, t, np.int64), np.array(devices, np.int32), np.ones(n, np.int16),
               np.full(n, 4.0))


def _run(conn: psycopg.Connection, parts, fridges: list[int], *, deaf: tuple[int, int],
         quiet: set[int], until: int, lost: bool = True, every: int = 10) -> RulesService:
    """Fridges report every `every` minutes except the `quiet` ones after the first hour;
    the platform is deaf (ingest down, messages lost) over `deaf` (minutes). Each minute the
    recorder beats, and the rules worker reads the record back before each batch."""
    svc = RulesService(conn, Engine(*parts), owner="w")
    svc.claim()
    recorder = ListeningRecorder("ingest-test", max_gap_ms=2 * MIN)
    for m in range(until):
        t = T0 + m * MIN
        recorder.beat(conn, t, not deaf[0] <= m < deaf[1])
        if m % every or (lost and deaf[0] <= m < deaf[1]):
            continue
        svc.engine.trust(t, load_listening(conn, t - 2 * 24 * HOUR))
        _batch(svc, [f for f in fridges if not (f in quiet and m >= 60)], t)
    return svc


def _offline(conn: psycopg.Connection) -> list[tuple[int, datetime]]:
    return conn.execute("SELECT device, opened_at FROM incidents WHERE fault = 'C01' "
                        "ORDER BY device").fetchall()


def test_an_ingest_outage_with_the_fleet_silent_through_it_alarms_and_emails_nobody(
        database_url: str, parts) -> None:
    """200 fridges last heard 5 h 55 min before the end of a 10-minute outage: on the raw
    event clock they pass the 6-hour offline rule; on listened time they do not."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        fridges = _fridges(conn, 200)
        # heard at minute 0 (every 360 minutes); the outage is minutes 355-365
        _run(conn, parts, fridges, deaf=(355, 365), quiet=set(), until=371, every=360 + 10)
        assert _offline(conn) == []
        IncidentFollower().step(conn)
        assert conn.execute("SELECT count(*) FROM email_outbox").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM platform_listening").fetchone()[0] == 2


def test_the_same_outage_judged_on_raw_event_time_is_a_storm(database_url: str, parts):
    """The test above can fail: without the listening record every fridge is offline."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        fridges = _fridges(conn, 200)
        svc = RulesService(conn, Engine(*parts), owner="w")
        svc.claim()
        _batch(svc, fridges, T0)
        _batch(svc, fridges, T0 + 370 * MIN)
        assert len(_offline(conn)) == 200


def test_a_real_disconnect_during_normal_operation_opens_its_incident_on_time(
        database_url: str, parts) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        fridges = _fridges(conn, 20)
        _run(conn, parts, fridges, deaf=(0, 0), quiet={fridges[0]}, until=8 * 60)
        rows = _offline(conn)
    # last heard at minute 50; 6 hours later is 6 h 50; the next batch is at 7 h 00
    assert [(d, int(t.timestamp() * 1000)) for d, t in rows] == [(fridges[0], T0 + 7 * HOUR)]


def test_draining_a_backlog_ends_with_no_time_driven_incident(database_url: str, parts):
    """Ingest was down for 8 hours with the broker keeping the messages; it drains them in
    large batches once back, and the stream then ends: no fridge is offline."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        fridges = _fridges(conn, 50)
        svc = RulesService(conn, Engine(*parts), owner="w")
        svc.claim()
        recorder = ListeningRecorder("ingest-test", max_gap_ms=2 * MIN)
        recorder.beat(conn, T0, True)
        _batch(svc, fridges, T0)
        back = T0 + 8 * HOUR
        recorder.beat(conn, back, True)  # a new interval: the 8 hours between were a gap
        for lo in range(0, 8 * 60, 60):  # the backlog: an hour of the fleet per batch
            ts = np.array([T0 + (lo + k) * MIN for k in range(0, 60, 10) for _ in fridges])
            dev = np.array([f for _ in range(0, 60, 10) for f in fridges], np.int32)
            svc.engine.trust(back, load_listening(conn, T0 - HOUR))
            svc.handle(ts, dev, np.ones(len(ts), np.int16), np.full(len(ts), 4.0))
        # the stream ends; the platform's clock goes on, hours past the fleet's last message
        svc.engine.trust(back + 7 * HOUR, load_listening(conn, T0 - HOUR))
        _batch(svc, fridges[:1], back + 7 * HOUR)  # one late straggler, hours ahead
        assert _offline(conn) == []
