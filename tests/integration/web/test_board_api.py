"""The jobs, technicians and incidents API: pages, filters, roles, JSON errors, conflicts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from fixahead.web.auth import create_token
from fixahead.web.board_app import create_web_app
from tests.support.board import SECRET, now_utc, seed_job
from tests.support.web import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(database_url: str) -> Iterator[tuple[TestClient, psycopg.Connection, dict]]:
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=3,
                         live=False)
    with psycopg.connect(database_url, autocommit=True) as conn, TestClient(app) as client:
        headers = {role: {"Authorization": "Bearer " + create_token(
            conn, role=role, name=role, actor="test")} for role in ("admin", "scheduler",
                                                                     "viewer")}
        yield client, conn, headers


def test_jobs_come_in_pages_with_a_cursor_and_filters(setup) -> None:
    client, conn, h = setup
    now = now_utc()
    jobs = [seed_job(conn, now=now, suffix=s, technicians=1) for s in "abc"]
    first = client.get("/api/v1/jobs?limit=2", headers=h["viewer"]).json()
    assert [j["id"] for j in first["items"]] == [jobs[0].visit_id, jobs[1].visit_id]
    rest = client.get(f"/api/v1/jobs?limit=2&cursor={first['next_cursor']}",
                      headers=h["viewer"]).json()
    assert [j["id"] for j in rest["items"]] == [jobs[2].visit_id] and rest["next_cursor"] is None
    (tech,) = conn.execute("SELECT technician_id FROM visits WHERE id = %s",
                           (jobs[1].visit_id,)).fetchone()
    held = client.get("/api/v1/jobs", params={"state": "held", "technician_id": tech},
                      headers=h["viewer"]).json()["items"]
    assert jobs[1].visit_id in [j["id"] for j in held]
    assert {j["technician_id"] for j in held} == {tech} and {j["state"] for j in held} == {
        "held"}
    r = client.get("/api/v1/jobs?cursor=abc", headers=h["viewer"])
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    techs = client.get("/api/v1/technicians?skill=electrical&limit=1",
                       headers=h["viewer"]).json()
    assert len(techs["items"]) == 1 and techs["next_cursor"]
    incidents = client.get("/api/v1/incidents?state=open&state=updated",
                           headers=h["viewer"]).json()["items"]
    assert {i["key"] for i in incidents} == {j.incident_key for j in jobs}


def test_a_viewer_token_cannot_move_and_a_clash_is_a_409(setup) -> None:
    client, conn, h = setup
    now = now_utc()
    a = seed_job(conn, now=now, suffix="a", technicians=1)
    b = seed_job(conn, now=now, suffix="b", technicians=1)
    ja = client.get(f"/api/v1/jobs/{a.visit_id}", headers=h["viewer"]).json()
    body = {"technician_id": ja["technician_id"], "starts_at": ja["starts_at"]}
    r = client.post(f"/api/v1/jobs/{b.visit_id}/move", json=body, headers=h["viewer"])
    assert r.status_code == 403 and "scheduler" in r.json()["detail"]
    r = client.post(f"/api/v1/jobs/{b.visit_id}/move", json=body, headers=h["scheduler"])
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert "already booked then" in r.json()["detail"]
    # 10:00 UTC: inside the technician's hours and outside the customer's quiet hours
    ten = (now + timedelta(days=4)).replace(hour=10, minute=0, second=0)
    later = {"technician_id": ja["technician_id"], "starts_at": ten.isoformat()}
    moved = client.post(f"/api/v1/jobs/{b.visit_id}/move", json=later, headers=h["scheduler"])
    assert moved.status_code == 200, moved.json()
    assert moved.json()["technician_id"] == ja["technician_id"]
    assert client.get("/api/v1/jobs/999999", headers=h["viewer"]).json() == {
        "error": "not_found", "detail": "there is no job 999999"}


def test_incidents_are_acknowledged_and_resolved_through_the_api(setup) -> None:
    client, conn, h = setup
    job = seed_job(conn, now=now_utc(), technicians=1)
    key = job.incident_key
    r = client.post(f"/api/v1/incidents/{key}/acknowledge", headers=h["scheduler"])
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    r = client.post(f"/api/v1/incidents/{key}/acknowledge", headers=h["scheduler"])
    assert r.status_code == 409
    r = client.post(f"/api/v1/incidents/{key}/snooze", json={"hours": 2},
                    headers=h["scheduler"])
    assert r.status_code == 200
    assert conn.execute("SELECT count(*) FROM incident_mutes").fetchone() == (1,)
    r = client.post(f"/api/v1/incidents/{key}/resolve", headers=h["scheduler"])
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    assert client.get("/openapi.json").json()["paths"]["/api/v1/jobs"]["get"]["parameters"]


def test_a_devices_telemetry_comes_in_pages_by_time_and_metric(setup) -> None:
    client, conn, h = setup
    job = seed_job(conn, now=now_utc(), technicians=1)
    url = f"/api/v1/devices/{job.device_id}/telemetry"
    page = client.get(url, params={"metric": "motor_current", "limit": 50},
                      headers=h["viewer"]).json()
    assert len(page["items"]) == 50 and page["next_cursor"]
    assert {i["metric"] for i in page["items"]} == {"motor_current"}
    rest = client.get(url, params={"metric": "motor_current", "limit": 1000,
                                   "cursor": page["next_cursor"]}, headers=h["viewer"]).json()
    assert len(page["items"]) + len(rest["items"]) == 104 and rest["next_cursor"] is None
    r = client.get(url, params={"metric": "spin"}, headers=h["viewer"])
    assert r.status_code == 422 and "has no metric 'spin'" in r.json()["detail"]
    incidents = client.get(f"/api/v1/devices/{job.device_id}/incidents",
                           headers=h["viewer"]).json()["items"]
    assert [i["key"] for i in incidents] == [job.incident_key]


def test_rule_precision_comes_from_recorded_outcomes(setup) -> None:
    client, conn, h = setup
    job = seed_job(conn, now=now_utc(), technicians=1)
    assert client.post(f"/api/v1/jobs/dispatch/{job.incident_key}",
                       headers=h["scheduler"]).status_code == 201
    r = client.post(f"/api/v1/jobs/{job.visit_id}/finish", headers=h["scheduler"],
                    json={"outcome": "other_fault"})
    assert r.status_code == 409 and "really there" in r.json()["detail"]
    r = client.post(f"/api/v1/jobs/{job.visit_id}/finish", headers=h["scheduler"],
                    json={"outcome": "other_fault", "actual_code": "E21"})
    assert r.status_code == 200 and r.json()["state"] == "done"
    assert r.json()["outcome"] == "other_fault"
    assert client.get("/api/v1/rules/precision", headers=h["viewer"]).json() == [
        {"source": "drum_motor_strain", "fault": "E60", "confirmed": 0, "wrong": 1,
         "judged": 1, "precision": 0.0, "customer_fixed": 0, "customer_still_broken": 0}]


def test_rule_precision_shows_the_customers_answers_beside_the_technicians(setup) -> None:
    client, conn, h = setup
    visited, unvisited = (seed_job(conn, now=now_utc(), suffix=s, technicians=1) for s in "xy")
    conn.execute("INSERT INTO visit_work (visit_id, incident_id, outcome) "
                 "VALUES (%s, %s, 'confirmed')", (visited.visit_id, visited.incident_key))
    conn.execute("INSERT INTO customer_feedback (incident_id, kind) VALUES (%s, 'still_broken')",
                 (visited.incident_key,))
    conn.execute("INSERT INTO customer_feedback (incident_id, kind) VALUES (%s, 'fixed')",
                 (unvisited.incident_key,))
    # The customer's "I fixed it" does not count as a technician's confirmation.
    assert client.get("/api/v1/rules/precision", headers=h["viewer"]).json() == [
        {"source": "drum_motor_strain", "fault": "E60", "confirmed": 1, "wrong": 0,
         "judged": 1, "precision": 1.0, "customer_fixed": 1, "customer_still_broken": 1}]


def test_rule_precision_lists_a_rule_only_customers_have_answered_for(setup) -> None:
    client, conn, h = setup
    job = seed_job(conn, now=now_utc(), technicians=1)
    conn.execute("INSERT INTO customer_feedback (incident_id, kind) VALUES (%s, 'fixed')",
                 (job.incident_key,))
    assert client.get("/api/v1/rules/precision", headers=h["viewer"]).json() == [
        {"source": "drum_motor_strain", "fault": "E60", "confirmed": 0, "wrong": 0,
         "judged": 0, "precision": None, "customer_fixed": 1, "customer_still_broken": 0}]


def test_what_a_visit_taught_about_the_household_is_recorded_for_its_availability(setup) -> None:
    client, conn, h = setup
    done, absent = (seed_job(conn, now=now_utc(), suffix=s, technicians=1) for s in "dn")
    for job in (done, absent):
        assert client.post(f"/api/v1/jobs/dispatch/{job.incident_key}",
                           headers=h["scheduler"]).status_code == 201
    assert client.post(f"/api/v1/jobs/{done.visit_id}/finish", headers=h["scheduler"],
                       json={"outcome": "confirmed"}).status_code == 200
    r = client.post(f"/api/v1/jobs/{absent.visit_id}/finish", headers=h["scheduler"],
                    json={"outcome": "cannot_complete", "reason": "customer_absent"})
    assert r.status_code == 200, r.text
    rows = conn.execute("""SELECT o.customer_id, o.kind, o.starts_at = v.starts_at
                           FROM availability_outcomes o JOIN visits v
                             ON v.customer_id = o.customer_id
                           WHERE v.id IN (%s, %s) ORDER BY o.kind""",
                        (done.visit_id, absent.visit_id)).fetchall()
    assert rows == [(done.customer_id, "confirmed", True),
                    (absent.customer_id, "nobody_home", True)]
