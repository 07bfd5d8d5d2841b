"""A broker restart that loses part of a dishwasher's programme is not judged as a fault
(issue 20), through PostgreSQL: the listening record written by the recorder and read back
by the rules worker, incidents stored, and the follower's emails."""

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
S = 1000
MIN = 60 * S
HOUR = 60 * MIN
T0 = int(datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp() * 1000)
SPRAY = 5  # DW-600's spray_pressure


@pytest.fixture(scope="module")
def parts():
    catalog = load_catalog()
    return compile_rules(load_packs(catalog), catalog), catalog


def _dishwashers(conn: psycopg.Connection, names: list[str]) -> list[int]:
    keys = [add_customer_device(conn, n) for n in names]
    conn.execute("UPDATE devices SET model_id = 'DW-600'")
    return keys


def _programme(start_min: int, minutes: int, fill_min: int) -> list[tuple[int, float]]:
    """(minute offset in ms, spray bar) every 30 s: a fill at 0.1 bar, then spraying."""
    return [(start_min * MIN + k * 30 * S, 0.1 if k < 2 * fill_min else 0.95)
            for k in range(2 * minutes)]


def _play(conn: psycopg.Connection, parts, streams: dict[int, list[tuple[int, float]]], *,
          deaf: tuple[int, int], until: int) -> RulesService:
    """Each minute the recorder beats (not listening over `deaf`, minutes), and the rules
    worker reads the record back and takes that minute's readings; those sent while the
    platform was deaf are lost (a broker restart)."""
    svc = RulesService(conn, Engine(*parts), owner="w")
    svc.claim()
    recorder = ListeningRecorder("ingest-test", max_gap_ms=2 * MIN)
    for m in range(until):
        t = T0 + m * MIN
        recorder.beat(conn, t, not deaf[0] <= m < deaf[1])
        rows = [(T0 + off, dev, v) for dev, stream in streams.items() for off, v in stream
                if m * MIN <= off < (m + 1) * MIN and not deaf[0] <= m < deaf[1]]
        if not rows:
            continue
        svc.engine.trust(t + MIN, load_listening(conn, t - 2 * 24 * HOUR))
        svc.handle(np.array([r[0] for r in rows], np.int64),
                   np.array([r[1] for r in rows], np.int32),
                   np.full(len(rows), SPRAY, np.int16), np.array([r[2] for r in rows]))
    return svc


def _opened(conn: psycopg.Connection) -> list[tuple[int, str]]:
    return conn.execute("SELECT device, fault FROM incidents ORDER BY device").fetchall()


def _emailed(conn: psycopg.Connection) -> int:
    IncidentFollower().step(conn)
    return int(conn.execute("SELECT count(*) FROM email_outbox").fetchone()[0])


def test_a_broker_restart_that_loses_the_end_of_a_fill_opens_no_drain_incident(
        database_url: str, parts) -> None:
    """The dishwasher's fill runs minutes 0-8; the restart loses minutes 5-15, its end and
    the spraying after it. Its next programme's fill is heard at minute 16: on raw readings
    that is 'below 0.2 bar for over 10 minutes' (I20); across the gap it is not judged."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        (dw,) = _dishwashers(conn, ["dw"])
        _play(conn, parts, {dw: _programme(0, 60, fill_min=8)[:16]   # stops at minute 8
                            + _programme(16, 60, fill_min=5)}, deaf=(5, 15), until=80)
        assert _opened(conn) == []
        assert _emailed(conn) == 0
        assert conn.execute("SELECT count(*) FROM platform_listening").fetchone()[0] == 2


def test_a_real_drain_fault_still_opens_its_incident_and_is_emailed(
        database_url: str, parts) -> None:
    """Beside the dishwasher of the restart, one whose clogged filter holds the spray at
    0.1 bar for 15 minutes, heard throughout after the restart: its I20 opens."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        lost, clogged = _dishwashers(conn, ["lost", "clogged"])
        _play(conn, parts, {lost: _programme(0, 60, fill_min=8)[:16]
                            + _programme(16, 60, fill_min=5),
                            clogged: _programme(30, 40, fill_min=15)},
              deaf=(5, 15), until=80)
        assert _opened(conn) == [(clogged, "I20")]
        assert _emailed(conn) >= 1
