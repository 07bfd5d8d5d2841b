from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import errors

from dispatch.booking import Offer, SearchConfig, Technician, VisitRequest
from dispatch.booking_store import (
    add_technician,
    cancel_visit,
    choose_offer,
    confirm_visit,
    expire_holds,
    hold_slot,
    load_technicians,
    propose_visit,
)

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin
HOME = (52.52, 13.40)
REQ = VisitRequest(skill="washer", minutes=60, lat=HOME[0], lon=HOME[1], parts=("pump",))
CFG = SearchConfig(lead_minutes=0)


def technician(**kw: object) -> Technician:
    values: dict[str, object] = dict(technician_id=0, name="Ada", skills=frozenset({"washer"}),
                                     lat=HOME[0], lon=HOME[1], tz="Europe/Berlin")
    values.update(kw)
    return Technician(**values)  # type: ignore[arg-type]


def flat(_: datetime) -> float:
    return 0.5


@pytest.fixture
def conn(database_url: str) -> psycopg.Connection:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def test_technicians_round_trip_with_days_off(conn: psycopg.Connection) -> None:
    off = frozenset({datetime(2026, 11, 24).date()})
    tid = add_technician(conn, technician(days_off=off))
    [t] = load_technicians(conn, skill="washer")
    assert t.technician_id == tid and t.days_off == off and t.work_days == frozenset(range(5))
    assert load_technicians(conn, skill="fridge") == []


def test_proposal_holds_the_best_slot_and_keeps_alternatives(conn: psycopg.Connection) -> None:
    add_technician(conn, technician())
    p = propose_visit(conn, incident_id="inc-1", customer_id="c1", req=REQ, p_home=flat,
                      now=NOW, hold_minutes=60, config=CFG)
    assert p is not None and len(p.offers) == 5
    state, = conn.execute("SELECT state FROM visits WHERE id = %s", (p.visit_id,)).fetchone()
    assert state == "held"
    assert conn.execute("SELECT count(*) FROM visit_offers").fetchone() == (5,)


def test_confirmation_books_and_a_second_click_changes_nothing(conn: psycopg.Connection) -> None:
    add_technician(conn, technician())
    p = propose_visit(conn, incident_id="inc-1", customer_id="c1", req=REQ, p_home=flat,
                      now=NOW, hold_minutes=60, config=CFG)
    assert p is not None
    assert confirm_visit(conn, p.visit_id, now=NOW) == "booked"
    assert confirm_visit(conn, p.visit_id, now=NOW) == "already_booked"
    assert expire_holds(conn, now=NOW + timedelta(days=1)) == 0


def test_an_unconfirmed_hold_expires_and_frees_the_slot(conn: psycopg.Connection) -> None:
    add_technician(conn, technician())
    p = propose_visit(conn, incident_id="inc-1", customer_id="c1", req=REQ, p_home=flat,
                      now=NOW, hold_minutes=30, config=CFG)
    assert p is not None
    later = NOW + timedelta(minutes=31)
    assert expire_holds(conn, now=later) == 1
    assert confirm_visit(conn, p.visit_id, now=later) == "released"
    q = propose_visit(conn, incident_id="inc-2", customer_id="c2", req=REQ, p_home=flat,
                      now=NOW, hold_minutes=30, config=CFG)
    assert q is not None and q.offer.start == p.offer.start


def test_confirming_after_expiry_is_refused(conn: psycopg.Connection) -> None:
    add_technician(conn, technician())
    p = propose_visit(conn, incident_id="inc-1", customer_id="c1", req=REQ, p_home=flat,
                      now=NOW, hold_minutes=30, config=CFG)
    assert p is not None
    assert confirm_visit(conn, p.visit_id, now=NOW + timedelta(hours=1)) == "expired"


def test_choose_another_slot_moves_the_visit(conn: psycopg.Connection) -> None:
    add_technician(conn, technician())
    p = propose_visit(conn, incident_id="inc-1", customer_id="c1", req=REQ, p_home=flat,
                      now=NOW, hold_minutes=60, config=CFG)
    assert p is not None
    vid = choose_offer(conn, incident_id="inc-1", rank=2, now=NOW, config=CFG)
    assert vid is not None
    rows = conn.execute("SELECT id, state, starts_at FROM visits ORDER BY id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(p.visit_id, "released"), (vid, "booked")]
    assert rows[1][2] == p.offers[2].start
    assert cancel_visit(conn, vid) == "cancelled"
    assert cancel_visit(conn, vid) == "cancelled"


def test_an_offer_in_the_past_cannot_be_held(conn: psycopg.Connection) -> None:
    add_technician(conn, technician())
    p = propose_visit(conn, incident_id="inc-1", customer_id="c1", req=REQ, p_home=flat,
                      now=NOW, hold_minutes=60, config=CFG)
    assert p is not None
    late = p.offers[1].start + timedelta(minutes=1)
    assert choose_offer(conn, incident_id="inc-1", rank=1, now=late, config=CFG) is None


def test_the_database_refuses_overlaps_even_without_the_lock(conn: psycopg.Connection) -> None:
    tid = add_technician(conn, technician())
    sql = """INSERT INTO visits (technician_id, incident_id, starts_at, ends_at, state, lat, lon,
                                 skill, hold_expires_at)
             VALUES (%s, %s, %s, %s, %s, 0, 0, 'washer', %s)"""
    start = NOW + timedelta(hours=3)
    conn.execute(sql, (tid, "a", start, start + timedelta(hours=1), "booked", None))
    with pytest.raises(errors.ExclusionViolation):
        conn.execute(sql, (tid, "b", start + timedelta(minutes=30), start + timedelta(hours=2),
                           "held", NOW + timedelta(hours=1)))
    # released and cancelled visits do not block
    conn.execute(sql, (tid, "c", start, start + timedelta(hours=1), "cancelled", None))


def _overlaps(conn: psycopg.Connection) -> int:
    row = conn.execute(
        """SELECT count(*) FROM visits a JOIN visits b
             ON a.technician_id = b.technician_id AND a.id < b.id
            AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
           WHERE a.state IN ('held', 'booked') AND b.state IN ('held', 'booked')""").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("through", ["hold_slot", "raw_insert"])
def test_fifty_concurrent_bookings_never_double_book(database_url: str, through: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        tids = [add_technician(conn, technician(name=f"t{i}")) for i in range(2)]
        techs = {t.technician_id: t for t in load_technicians(conn)}
    base = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 Berlin
    rng = random.Random(5)
    # every request wants 60 min starting on a 30-min grid inside 09:00-11:30: all overlap
    wanted = [(rng.choice(tids), base + timedelta(minutes=30 * rng.randrange(4)))
              for _ in range(50)]
    barrier = threading.Barrier(50)
    results: list[int | None] = [None] * 50
    failures: list[BaseException] = []

    def book(i: int) -> None:
        tid, start = wanted[i]
        try:
            with psycopg.connect(database_url, autocommit=True) as c:
                barrier.wait(timeout=30)
                offer = Offer(tid, start, start + timedelta(hours=1), 1.0, 0.5, 0.0)
                if through == "hold_slot":
                    results[i] = hold_slot(c, incident_id=f"inc-{i}", customer_id="c",
                                           offer=offer, req=REQ, technician=techs[tid],
                                           now=NOW, hold_minutes=60, config=CFG)
                else:
                    try:
                        row = c.execute(
                            """INSERT INTO visits (technician_id, incident_id, starts_at,
                                                   ends_at, state, lat, lon, skill)
                               VALUES (%s, %s, %s, %s, 'booked', 0, 0, 'washer')
                               RETURNING id""",
                            (tid, f"inc-{i}", offer.start, offer.end)).fetchone()
                        results[i] = None if row is None else int(row[0])
                    except (errors.ExclusionViolation, errors.DeadlockDetected):
                        # concurrent inserts checking the same constraint may deadlock: the
                        # loser is refused, which is what matters here
                        results[i] = None
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    won = [r for r in results if r is not None]
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert _overlaps(conn) == 0
        held = conn.execute("SELECT count(*) FROM visits WHERE state IN ('held', 'booked')")
        assert held.fetchone() == (len(won),)
    assert 2 <= len(won) <= 4  # at most two non-overlapping hours per technician in the range
