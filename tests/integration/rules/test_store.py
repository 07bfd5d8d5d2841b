"""Incidents, checkpoints and leases in a real PostgreSQL."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import psycopg
import pytest

from devices.catalog import load_catalog
from rules.compiler import compile_rules
from rules.evaluator import Evaluator
from rules.incidents import IncidentBook, Signal
from rules.loader import load_packs
from rules.store import (
    LeaseLost,
    acquire_lease,
    load_checkpoint,
    load_open,
    save_changes,
    save_checkpoint,
)
from simulator.readings import fleet

pytestmark = pytest.mark.integration
T0 = 1_767_225_600_000


def _opened(device: int = 1, t: int = T0):
    book = IncidentBook()
    return book, book.apply(Signal(device=device, fault="E21", source="drain_pump_wear",
                                   on=True, ts_ms=t, title="Drain pump likely to fail",
                                   reading=(("value", 250.0), ("score", 6.0))))


def test_saving_the_same_changes_twice_stores_them_once(database_url: str) -> None:
    _, changes = _opened()
    with psycopg.connect(database_url) as conn:
        save_changes(conn, changes)
        save_changes(conn, changes)
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM incident_changes").fetchone()[0] == 1
        [inc] = load_open(conn, [1])
    assert inc.key == changes[0].incident.key
    assert dict(inc.readings[0]) == {"value": 250.0, "score": 6.0}


def test_a_stale_writer_cannot_undo_a_newer_state(database_url: str) -> None:
    book, opened = _opened()
    acked = book.acknowledge(opened[0].incident.key, T0 + 1)
    with psycopg.connect(database_url) as conn:
        save_changes(conn, acked)
        save_changes(conn, opened)  # an old replay arrives late
        state = conn.execute("SELECT state, version FROM incidents").fetchone()
    assert state == ("acknowledged", 2)


def test_two_workers_opening_the_same_fault_at_once_share_one_incident(
        database_url: str) -> None:
    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def worker(t: int) -> None:
        _, changes = _opened(t=t)
        with psycopg.connect(database_url) as conn:
            barrier.wait()
            results.append(save_changes(conn, changes))

    threads = [threading.Thread(target=worker, args=(T0 + k,)) for k in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with psycopg.connect(database_url) as conn:
        open_rows = conn.execute("SELECT key, sources FROM incidents").fetchall()
    assert len(open_rows) == 1
    assert results[0] == results[1] == [open_rows[0][0]]


def test_a_partition_lease_fences_the_previous_owner(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        a = acquire_lease(conn, 3, "worker-a", ttl_s=0.3)
        assert a == 1
        assert acquire_lease(conn, 3, "worker-b", ttl_s=5) is None
        save_checkpoint(conn, 3, "worker-a", a, "L1", [(9, b"\x00" * 8)], T0)
        time.sleep(0.4)
        b = acquire_lease(conn, 3, "worker-b", ttl_s=5)
        assert b == 2
        with pytest.raises(LeaseLost):
            save_checkpoint(conn, 3, "worker-a", a, "L1", [(9, b"\x01" * 8)], T0 + 1)
        assert acquire_lease(conn, 3, "worker-b", ttl_s=5) == 2  # renewal keeps the epoch


def test_state_checkpointed_in_postgres_resumes_exactly(database_url: str) -> None:
    catalog = load_catalog()
    compiled = compile_rules(load_packs(catalog), catalog)
    data = fleet(200, 40_000, seed=6)
    data["value"][::61] += 35.0
    cols = ("ts", "device", "metric", "value")
    half = data["ts"].size // 2
    whole = Evaluator(compiled)
    whole.assign(data["keys"], data["models"])
    whole.evaluate(*(data[c][:half] for c in cols))
    expected = whole.evaluate(*(data[c][half:] for c in cols))

    first = Evaluator(compiled)
    first.assign(data["keys"], data["models"])
    first.evaluate(*(data[c][:half] for c in cols))
    with psycopg.connect(database_url, autocommit=True) as conn:
        epoch = acquire_lease(conn, 0, "w1", ttl_s=30)
        assert epoch is not None
        save_checkpoint(conn, 0, "w1", epoch, first.fingerprint(),
                        first.export(data["keys"]), int(data["ts"][half - 1]))
        states, reached = load_checkpoint(conn, 0, first.fingerprint())
    assert reached == int(data["ts"][half - 1])
    second = Evaluator(compiled)
    second.assign(data["keys"], data["models"])
    second.restore(states)
    got = second.evaluate(*(data[c][half:] for c in cols))
    assert len(expected) > 0
    for name in ("device", "rule", "ts_ms", "on", "score"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))


def test_open_incidents_reload_into_a_new_book(database_url: str) -> None:
    _, opened = _opened(device=4)
    with psycopg.connect(database_url) as conn:
        save_changes(conn, opened)
        loaded = load_open(conn, [4])
    fresh = IncidentBook()
    for inc in loaded:
        fresh.open[(inc.device, inc.fault)] = replace(inc, active=frozenset())
    [upd] = fresh.apply(Signal(device=4, fault="E21", source="code:E21", on=True,
                               ts_ms=T0 + 5, kind="error", momentary=True))
    assert upd.change == "updated" and upd.incident.key == opened[0].incident.key


def test_a_prediction_incident_stores_its_remaining_life(database_url: str) -> None:
    """The range travels from the signal to the `detail` column, back into a restarted
    worker's book, and to what the job page reads (`rules.queries.incident_row`)."""
    import math

    from rules.incidents import Life
    from rules.queries import incident_row

    book = IncidentBook()
    opened = book.apply(Signal(device=3, fault="E21", source="drain_pump_wear", on=True,
                               ts_ms=T0, title="Drain pump likely to fail in about 6 days",
                               life=Life(6.3, 3.2, 9.7, T0)))
    open_ended = IncidentBook().apply(Signal(device=4, fault="E21", source="drain_pump_wear",
                                             on=True, ts_ms=T0, life=Life(5.0, 2.0, math.inf,
                                                                          T0)))
    with psycopg.connect(database_url) as conn:
        save_changes(conn, opened + open_ended)
        row = incident_row(conn, opened[0].incident.key)
        [again] = load_open(conn, [3])
        [unbounded] = load_open(conn, [4])
    assert row is not None
    life = row["detail"]["remaining_life"]
    assert (life["days"], life["lo"], life["hi"]) == (6.3, 3.2, 9.7)
    assert life["text"] == "about 6 days left (3-10)"
    assert again.life == Life(6.3, 3.2, 9.7, T0)
    assert unbounded.life is not None and unbounded.life.hi == math.inf
