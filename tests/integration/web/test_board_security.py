"""People log in; roles and CSRF tokens guard every page and change; changes are audited."""

from __future__ import annotations

import re

import pytest

from fixahead.web import fleetstore
from tests.support.board import PASSWORD, add_people, now_utc, seed_job
from tests.support.web import TestClient, login

pytestmark = pytest.mark.integration


def test_pages_send_a_visitor_without_a_session_to_the_login(web: TestClient) -> None:
    r = web.get("/board", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fboard")
    r = web.get("/board/grid", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")


def test_a_wrong_password_is_refused_and_the_cookie_is_hardened(web: TestClient, conn) -> None:
    people = add_people(conn)
    page = web.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = web.post("/login", data={"email": people["viewer"], "password": "wrong password!",
                                 "csrf_token": token})
    assert r.status_code == 401 and "Wrong email or password" in r.text
    page = web.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = web.post("/login", data={"email": people["viewer"], "password": PASSWORD,
                                 "csrf_token": token}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "fixahead_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    stored = conn.execute("SELECT password_hash FROM web_users WHERE email = %s",
                          (people["viewer"],)).fetchone()[0]
    assert stored.startswith("scrypt$") and PASSWORD not in stored


def test_a_forged_session_cookie_is_not_a_session(web: TestClient, conn) -> None:
    web.cookies.set("fixahead_session", "made-up.signature")
    assert web.get("/board", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(web: TestClient, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    csrf = login(web, people["scheduler"])
    r = web.post(f"/jobs/{job.visit_id}/move",
                 data={"technician_id": job.technicians[1], "start": "2030-01-01T10:00"})
    assert r.status_code == 403 and "security token" in r.text
    r = web.post(f"/jobs/{job.visit_id}/move", headers={"X-CSRF-Token": "not-it"},
                 data={"technician_id": job.technicians[1], "start": "2030-01-01T10:00"})
    assert r.status_code == 403
    r = web.post(f"/jobs/{job.visit_id}/start", headers={"X-CSRF-Token": csrf})
    assert r.status_code in (303, 409)  # the header alone is enough (htmx sends it)


def test_a_viewer_cannot_move_a_job(web: TestClient, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    before = conn.execute("SELECT technician_id, starts_at FROM visits WHERE id = %s",
                          (job.visit_id,)).fetchone()
    other = next(t for t in job.technicians if t != before[0])
    csrf = login(web, people["viewer"])
    assert web.get(f"/jobs/{job.visit_id}").status_code == 200
    r = web.post(f"/jobs/{job.visit_id}/move", data={
        "technician_id": other, "start": "2030-01-01T10:00", "csrf_token": csrf})
    assert r.status_code == 403 and "scheduler role" in r.text
    assert conn.execute("SELECT technician_id, starts_at FROM visits WHERE id = %s",
                        (job.visit_id,)).fetchone() == before


def test_moving_onto_a_busy_technician_is_refused_with_a_clear_message(web, conn) -> None:
    people = add_people(conn)
    now = now_utc()
    a = seed_job(conn, now=now, suffix="a")
    b = seed_job(conn, now=now, suffix="b")
    start_a, tech_a = conn.execute("SELECT starts_at, technician_id FROM visits WHERE id = %s",
                                   (a.visit_id,)).fetchone()
    csrf = login(web, people["scheduler"])
    r = web.post(f"/jobs/{b.visit_id}/move", data={
        "technician_id": tech_a, "start": start_a.strftime("%Y-%m-%dT%H:%M"),
        "csrf_token": csrf})
    assert r.status_code == 409
    (number,) = conn.execute("SELECT number FROM job_numbers WHERE incident_id = %s",
                             (a.incident_key,)).fetchone()
    assert "already booked then" in r.text and f"job J-{number}" in r.text
    free = (start_a + (start_a - start_a).__class__(days=3)).replace(hour=10, minute=0)
    r = web.post(f"/jobs/{b.visit_id}/move", data={
        "technician_id": tech_a, "start": free.strftime("%Y-%m-%dT%H:%M"), "csrf_token": csrf},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    row = conn.execute("SELECT technician_id, starts_at FROM visits WHERE id = %s",
                       (b.visit_id,)).fetchone()
    assert row == (tech_a, free)
    trail = conn.execute("SELECT actor, action FROM audit_log WHERE subject_type = 'visit' "
                         "AND subject_id = %s", (str(b.visit_id),)).fetchall()
    assert trail == [("user:2:scheduler@fix.example", "job.move")]


def test_the_job_page_shows_the_fault_customer_and_chart(web: TestClient, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    login(web, people["viewer"])
    page = web.get(f"/jobs/{job.visit_id}").text
    assert "E60" in page and "WM-800" in page and "Drum motor" in page
    assert '<svg class="chart"' in page and 'class="detect"' in page
    assert "Move" not in page  # a viewer gets no action forms
    assert "Ada Quellmalz" not in page and "ada1@example.org" not in page  # no personal data
    board = web.get("/board?day=" + conn.execute(
        "SELECT (starts_at AT TIME ZONE 'UTC')::date FROM visits WHERE id = %s",
        (job.visit_id,)).fetchone()[0].isoformat()).text
    assert f'data-visit="{job.visit_id}"' in board and "Ada Quellmalz" not in board
    web.post("/logout", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', board).group(1)})
    login(web, people["scheduler"])
    page = web.get(f"/jobs/{job.visit_id}").text
    assert "Ada Quellmalz 1" in page and "ada1@example.org" in page and "Move" in page


def test_outcomes_are_recorded_for_rule_precision(web: TestClient, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    csrf = login(web, people["scheduler"])
    r = web.post(f"/jobs/incident/{job.incident_key}/dispatch", data={"csrf_token": csrf},
                 follow_redirects=False)
    assert r.status_code == 303, r.text
    assert web.post(f"/jobs/{job.visit_id}/start", data={"csrf_token": csrf},
                    follow_redirects=False).status_code == 303
    r = web.post(f"/jobs/{job.visit_id}/finish", data={"csrf_token": csrf,
                                                       "outcome": "confirmed"},
                 follow_redirects=False)
    assert r.status_code == 303, r.text
    assert conn.execute("SELECT state FROM visits WHERE id = %s",
                        (job.visit_id,)).fetchone() == ("done",)
    assert [(r["source"], r["confirmed"], r["judged"], r["precision"])
            for r in fleetstore.rule_precision(conn)] == [("drum_motor_strain", 1, 1, 1.0)]
    fleet = web.get("/fleet").text
    assert "drum_motor_strain" in fleet and "100%" in fleet
    actions = [a for (a,) in conn.execute("SELECT action FROM audit_log WHERE actor LIKE "
                                          "'user:%%' ORDER BY id")]
    assert actions == ["user.login", "job.dispatch", "job.start", "job.complete"]


def test_incidents_can_be_acknowledged_and_pages_render(web: TestClient, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    csrf = login(web, people["scheduler"])
    r = web.post("/incidents/action", data={"csrf_token": csrf, "key": job.incident_key,
                                            "action": "acknowledge"}, follow_redirects=False)
    assert r.status_code == 303
    assert conn.execute("SELECT state FROM incidents WHERE key = %s",
                        (job.incident_key,)).fetchone() == ("acknowledged",)
    for path in ("/incidents", f"/devices/{job.device_id}", "/outbox", "/fleet",
                 "/board?days=7&skill=electrical&territory=north"):
        r = web.get(path)
        assert r.status_code == 200, (path, r.text[:300])


def test_sign_in_never_redirects_off_the_site(web: TestClient, conn) -> None:
    people = add_people(conn)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        page = web.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = web.post("/login", data={"email": people["viewer"], "password": PASSWORD,
                                     "csrf_token": token, "next": target},
                     follow_redirects=False)
        assert r.headers["location"] == "/board", target
        web.cookies.clear()


def test_ten_wrong_passwords_lock_the_account_for_a_while(web: TestClient, conn) -> None:
    people = add_people(conn)

    def attempt(password: str) -> int:
        page = web.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return web.post("/login", data={"email": people["admin"], "password": password,
                                         "csrf_token": token}, follow_redirects=False
                        ).status_code

    assert [attempt("wrong password!") for _ in range(10)] == [401] * 10
    assert attempt(PASSWORD) == 429
    subjects = {s for (s,) in conn.execute(
        "SELECT subject_id FROM audit_log WHERE action = 'user.login_failed'")}
    assert len(subjects) == 1 and "@" not in subjects.pop()  # no email in the audit log


def test_a_scheduler_asks_the_appliance_for_diagnostics_from_the_job_page(web: TestClient,
                                                                          conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    csrf = login(web, people["scheduler"])
    r = web.post(f"/jobs/incident/{job.incident_key}/diagnostics",
                 data={"csrf_token": csrf, "kind": "diagnostics_snapshot"},
                 follow_redirects=False)
    assert r.status_code == 303, r.text
    rows = conn.execute("SELECT kind, incident_id FROM diagnostic_requests "
                        "WHERE requested_by = %s", ("user:2:scheduler@fix.example",)).fetchall()
    assert rows == [("diagnostics_snapshot", job.incident_key)]
    page = web.get(f"/jobs/{job.visit_id}").text
    assert "Remote diagnostics" in page and "diagnostics_snapshot" in page
    assert "waiting" in page  # the simulated device never answers here
    r = web.post(f"/jobs/incident/{job.incident_key}/diagnostics",
                 data={"kind": "self_test"}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token, no request
