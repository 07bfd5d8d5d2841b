"""Rule precision composed from rules' incidents and dispatch's verdicts gives what the view it
replaced (`rule_precision`, migrations 0050 and 0074, dropped in 0076) gave."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from fixahead.web import fleetstore
from tests.support.board import now_utc, seed_job

pytestmark = pytest.mark.integration

VIEW = Path(fleetstore.__file__).parents[1] / "migrations/0074_rule_precision_customers.sql"


def _work(conn: psycopg.Connection, visit_id: int, incident: str, outcome: str | None) -> None:
    conn.execute("INSERT INTO visit_work (visit_id, incident_id, outcome) VALUES (%s, %s, %s)",
                 (visit_id, incident, outcome))


def _answer(conn: psycopg.Connection, incident: str, kind: str) -> None:
    conn.execute("INSERT INTO customer_feedback (incident_id, kind) VALUES (%s, %s)",
                 (incident, kind))


def _second_visit(conn: psycopg.Connection, visit_id: int) -> int:
    row = conn.execute(
        """INSERT INTO visits (technician_id, incident_id, customer_id, starts_at, ends_at,
                               state, lat, lon, skill)
           SELECT technician_id, incident_id, customer_id, starts_at + interval '1 day',
                  ends_at + interval '1 day', 'done', lat, lon, skill
           FROM visits WHERE id = %s RETURNING id""", (visit_id,)).fetchone()
    assert row is not None
    return int(row[0])


def test_rule_precision_is_what_the_dropped_view_gave(conn: psycopg.Connection) -> None:
    now = now_utc()
    a, b, c = (seed_job(conn, now=now, suffix=s, technicians=1) for s in "abc")
    # a: two visits (confirmed, then no fault found) and a customer who says still broken
    _work(conn, a.visit_id, a.incident_key, "confirmed")
    _work(conn, _second_visit(conn, a.visit_id), a.incident_key, "no_fault_found")
    _answer(conn, a.incident_key, "still_broken")
    # b: another fault and source, a visit started and not finished (no outcome yet)
    conn.execute("UPDATE incidents SET fault = 'E21', sources = '{code:E21}' WHERE key = %s",
                 (b.incident_key,))
    _work(conn, b.visit_id, b.incident_key, None)
    # c: only the customer answered; a source listed twice counts twice, as in the view
    conn.execute("UPDATE incidents SET sources = '{drum_motor_strain,generic:motor,"
                 "generic:motor}' WHERE key = %s", (c.incident_key,))
    _answer(conn, c.incident_key, "fixed")
    # what was said of an incident that does not exist is left out
    _work(conn, _second_visit(conn, c.visit_id), "no-such-incident", "confirmed")
    _answer(conn, "no-such-incident", "fixed")

    composed = fleetstore.rule_precision(conn)
    assert conn.execute("SELECT to_regclass('rule_precision')").fetchone() == (None,)
    conn.execute(VIEW.read_text())
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            viewed = cur.execute("SELECT * FROM rule_precision ORDER BY source, fault"
                                 ).fetchall()
    finally:
        conn.execute("DROP VIEW rule_precision")
    assert composed == viewed
    assert composed == [
        {"source": "code:E21", "fault": "E21", "confirmed": 0, "wrong": 0, "judged": 0,
         "precision": None, "customer_fixed": 0, "customer_still_broken": 0},
        {"source": "drum_motor_strain", "fault": "E60", "confirmed": 1, "wrong": 1,
         "judged": 2, "precision": 0.5, "customer_fixed": 1, "customer_still_broken": 1},
        {"source": "generic:motor", "fault": "E60", "confirmed": 0, "wrong": 0, "judged": 0,
         "precision": None, "customer_fixed": 2, "customer_still_broken": 0}]


def test_the_fleet_page_lists_the_most_judged_rules_first(conn: psycopg.Connection) -> None:
    now = now_utc()
    a, b = (seed_job(conn, now=now, suffix=s, technicians=1) for s in "ab")
    conn.execute("UPDATE incidents SET sources = '{aaa_rule}' WHERE key = %s", (a.incident_key,))
    _answer(conn, a.incident_key, "fixed")
    _work(conn, b.visit_id, b.incident_key, "other_fault")
    shown = fleetstore.overview(conn, now=now, days=7)["precision"]
    assert [(p["source"], p["judged"]) for p in shown] == [("drum_motor_strain", 1),
                                                           ("aaa_rule", 0)]
