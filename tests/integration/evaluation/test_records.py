"""records.py + scoring against a real database and a hand-written ground-truth directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from dispatch.booking import Technician
from dispatch.booking_store import add_technician
from dispatch.service import dispatch_incident
from fixahead.lab.evaluation.records import load_records
from fixahead.lab.evaluation.score import score
from simulator.groundtruth import read_ground_truth
from tests.support.dispatch import PORTS
from tests.support.evaluation import (
    FRIDGE,
    WASHER,
    add_email,
    add_fleet,
    add_incident,
    at,
    ms,
    write_truth,
)

pytestmark = pytest.mark.integration

def test_records_from_the_real_tables_score_to_the_known_answers(
        database_url: str, tmp_path: Path) -> None:
    write_truth(tmp_path, away=[(at(5, 10, ), at(5, 13)), (at(6, 8), at(6, 12))])
    arrived = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # wall clock of the run
    with psycopg.connect(database_url, autocommit=True) as conn:
        dev = add_fleet(conn)
        early = add_incident(conn, dev[WASHER], "E21", at(5))  # 3 days before the failure
        add_incident(conn, dev[WASHER], "E10", at(3))  # no such fault: a false alarm
        door = add_incident(conn, dev[FRIDGE], "F7", at(5, 10), kind="error")
        stray = add_incident(conn, dev["other-run"], "E21", at(5))  # not this run's device
        conn.execute("INSERT INTO events (time, device, seq, kind, code, received_at) "
                     "VALUES (%s, %s, 1, 'error', 'F7', %s)", (at(5, 10), dev[FRIDGE], arrived))
        add_email(conn, early, "self_help", arrived - timedelta(hours=1))
        add_email(conn, door, "visit", arrived + timedelta(seconds=4))
        add_email(conn, stray, "self_help", arrived)
        tech = add_technician(conn, Technician(0, "Tech", frozenset({"refrigeration"}),
                                               52.52, 13.40))
        visit = conn.execute(
            """INSERT INTO visits (technician_id, incident_id, customer_id, starts_at, ends_at,
                                   state, hold_expires_at, lat, lon, skill)
               VALUES (%s, %s, 'cus-0', %s, %s, 'held', %s, 52.52, 13.40, 'refrigeration')
               RETURNING id""",
            (tech, door, at(6, 14), at(6, 15), at(7, 10))).fetchone()
        assert visit is not None
        conn.execute(
            """INSERT INTO dispatch_decisions (idempotency_key, incident_id, customer_id, action,
                                               delivery, visit_id, decided_at)
               VALUES (%s, %s, 'cus-0', 'visit', 'now', %s, %s)""",
            (f"{door}:visit", door, visit[0], at(5, 10)))
        records = load_records(conn, read_ground_truth(tmp_path))
    doc = score(read_ground_truth(tmp_path), records)
    d, p = doc["detection"], doc["dispatch"]
    assert d["recall_before_failure"] == 1.0
    assert d["median_lead_days"] == pytest.approx(3.0)
    assert d["false_alarms"] == 1
    assert d["false_alarms_per_1000_device_days"] == pytest.approx(1000 / 20)
    assert d["sudden_acted_share"] == 1.0
    assert d["p99_error_to_email_s"] == pytest.approx(4.0)
    assert doc["counts"]["incidents"] == 3  # the other run's incident is not read
    assert p["emails_per_incident"] == pytest.approx(2 / 3)
    assert p["self_help_share"] == 0.5  # E21 got self-help, F7 got a visit
    # ours: Friday 6th 14:00, home; first free after the 10:00 decision: 11:00, away
    assert records.baseline[door] == (ms(at(5, 11)), ms(at(5, 12)))
    assert (p["home_rate"], p["home_rate_baseline"]) == (1.0, 0.0)
    assert p["away_proposals_share"] == 0.0


def test_an_incident_dispatched_by_the_real_service_is_linked_to_its_email_and_visit(
        database_url: str, tmp_path: Path) -> None:
    write_truth(tmp_path, away=[])
    with psycopg.connect(database_url, autocommit=True) as conn:
        dev = add_fleet(conn)
        add_technician(conn, Technician(0, "Tech", frozenset({"plumbing"}), 52.52, 13.40))
        leak = add_incident(conn, dev[WASHER], "E90", at(4, 9), kind="error")
        out = dispatch_incident(conn, incident_id=leak, device_id=WASHER, model_id="WM-800",
                                code="E90", now=at(4, 9), ports=PORTS)
        assert out is not None and out.visit_id is not None
        records = load_records(conn, read_ground_truth(tmp_path))
    assert [e.items[0].incident_key for e in records.emails] == [leak]
    assert [v.incident_key for v in records.visits] == [leak]
    assert records.baseline[leak] is not None  # the same technician, seen at the same time
    doc = score(read_ground_truth(tmp_path), records)
    assert doc["dispatch"]["emails_per_incident"] == 1.0
    assert doc["dispatch"]["visits_scored"] == 1
