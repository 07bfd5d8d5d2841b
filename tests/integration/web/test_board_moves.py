"""Moving and placing jobs from the board: checked on the server, one email per change, a
stable job number; search, filters, the P(home) band and each person's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.support.board import add_people, now_utc, seed_job
from tests.support.web import login

pytestmark = pytest.mark.integration


def _emails(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM email_outbox").fetchone()[0])


def _day_after(conn: psycopg.Connection, visit_id: int, hour: int) -> datetime:
    (start,) = conn.execute("SELECT starts_at FROM visits WHERE id = %s", (visit_id,)).fetchone()
    return (start + timedelta(days=1)).astimezone(UTC).replace(hour=hour, minute=0, second=0)


def test_a_move_is_saved_audited_and_tells_the_customer_exactly_once(web, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    csrf = login(web, people["scheduler"])
    to = _day_after(conn, job.visit_id, 10)
    before = _emails(conn)
    form = {"visit_id": job.visit_id, "technician_id": job.technicians[1],
            "start": to.isoformat()}
    r = web.post("/board/move", data=form, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["status"] == "moved", r.text
    assert "is with Tech 1-1" in r.json()["message"]
    assert "The customer will get an email" in r.json()["message"]
    assert conn.execute("SELECT technician_id, starts_at FROM visits WHERE id = %s",
                        (job.visit_id,)).fetchone() == (job.technicians[1], to)
    assert _emails(conn) == before + 1
    row = conn.execute("SELECT to_addr, payload->'visit'->>'start' FROM email_outbox "
                       "ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("ada1@example.org", to.isoformat())
    again = web.post("/board/move", data=form, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 200 and _emails(conn) == before + 1  # nothing new to tell


def test_the_past_and_a_missing_skill_are_refused_and_quiet_hours_need_a_yes(web, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    csrf = login(web, people["scheduler"])
    h = {"X-CSRF-Token": csrf}
    before = conn.execute("SELECT technician_id, starts_at FROM visits WHERE id = %s",
                          (job.visit_id,)).fetchone()
    past = web.post("/board/move", headers=h, data={
        "visit_id": job.visit_id, "technician_id": job.technicians[0],
        "start": "2020-01-01T10:00"})
    assert past.status_code == 409 and past.json()["status"] == "refused"
    assert "That time is in the past" in past.json()["message"]
    conn.execute("UPDATE technicians SET skills = '{plumbing}' WHERE id = %s",
                 (job.technicians[1],))
    skill = web.post("/board/move", headers=h, data={
        "visit_id": job.visit_id, "technician_id": job.technicians[1],
        "start": _day_after(conn, job.visit_id, 10).isoformat()})
    assert "does not have the skill 'electrical'" in skill.json()["message"]
    night = {"visit_id": job.visit_id, "technician_id": job.technicians[0],
             "start": _day_after(conn, job.visit_id, 2).isoformat()}
    ask = web.post("/board/move", headers=h, data=night)
    assert ask.status_code == 409 and ask.json()["status"] == "confirm"
    assert "quiet hours (21:00-08:00 their time)" in ask.json()["warnings"][0]
    assert conn.execute("SELECT technician_id, starts_at FROM visits WHERE id = %s",
                        (job.visit_id,)).fetchone() == before
    yes = web.post("/board/move", headers=h, data={**night, "confirm": "true"})
    assert yes.status_code == 200 and yes.json()["warnings"], yes.text
    detail = conn.execute("SELECT detail FROM audit_log WHERE action = 'job.move'").fetchone()[0]
    assert "quiet hours" in detail["warnings"][0]


def test_a_job_from_the_list_is_placed_and_keeps_its_number(web, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    conn.execute("UPDATE visits SET state = 'released' WHERE id = %s", (job.visit_id,))
    (number,) = conn.execute("SELECT number FROM job_numbers WHERE incident_id = %s",
                             (job.incident_key,)).fetchone()
    csrf = login(web, people["scheduler"])
    side = web.get("/board").text
    assert f'data-incident="{job.incident_key}"' in side and f"J-{number} · E60" in side
    to = _day_after(conn, job.visit_id, 11)
    r = web.post("/board/move", headers={"X-CSRF-Token": csrf}, data={
        "incident_id": job.incident_key, "technician_id": job.technicians[1],
        "start": to.isoformat()})
    assert r.status_code == 200, r.text
    new = r.json()["visit_id"]
    assert new != job.visit_id
    assert conn.execute("SELECT state, technician_id, starts_at FROM visits WHERE id = %s",
                        (new,)).fetchone() == ("booked", job.technicians[1], to)
    assert f'<span id="job-number">J-{number}</span>' in web.get(f"/jobs/{new}").text
    assert f'data-incident="{job.incident_key}"' not in web.get("/board").text
    history = web.get(f"/jobs/{new}").text
    assert "booked" in history and "scheduler@fix.example" in history


def test_search_and_state_filter_the_rows_and_blocks(web, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    day = conn.execute("SELECT (starts_at AT TIME ZONE 'UTC')::date FROM visits WHERE id = %s",
                       (job.visit_id,)).fetchone()[0]
    login(web, people["scheduler"])
    (number,) = conn.execute("SELECT number FROM job_numbers").fetchone()
    for q in ("Quellmalz", "berlin", job.device_id, f"J-{number}", job.incident_key):
        page = web.get("/board", params={"day": day.isoformat(), "q": q}).text
        assert f'data-visit="{job.visit_id}"' in page, q
    miss = web.get("/board", params={"day": day.isoformat(), "q": "Nobody"}).text
    assert "data-visit=" not in miss and "No technicians match “Nobody”" in miss
    held = web.get("/board", params={"day": day.isoformat(), "state": "held"}).text
    assert f'data-visit="{job.visit_id}"' in held
    done = web.get("/board", params={"day": day.isoformat(), "state": "done"}).text
    assert "data-visit=" not in done
    week = web.get("/board", params={"day": day.isoformat(), "days": 7}).text
    assert 'class="chip held"' in week and 'class="board days-7 agenda"' in week


def test_the_presence_band_and_each_persons_time_zone(web, conn) -> None:
    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    day = conn.execute("SELECT (starts_at AT TIME ZONE 'UTC')::date FROM visits WHERE id = %s",
                       (job.visit_id,)).fetchone()[0]
    csrf = login(web, people["scheduler"])
    band = web.get("/board/presence", params={"day": day.isoformat(), "days": 3,
                                              "visit_id": job.visit_id}).json()
    assert len(band["p"]) == 72 and all(0 <= p <= 1 for p in band["p"])
    bad = web.post("/account", data={"time_zone": "Mars/Olympus", "csrf_token": csrf})
    assert bad.status_code == 422
    ok = web.post("/account", data={"time_zone": "Asia/Tokyo", "csrf_token": csrf})
    assert ok.status_code == 200 and "Times now show in Asia/Tokyo" in ok.text
    start = conn.execute("SELECT starts_at FROM visits WHERE id = %s",
                         (job.visit_id,)).fetchone()[0]
    page = web.get(f"/jobs/{job.visit_id}").text
    tokyo = start.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert f"{tokyo:%H:%M}" in page and "(Asia/Tokyo)" in page
    assert f"Customer's local time: <strong>{start:%a %d %b %H:%M}" in page
    assert "times in <a href=\"/account\">Asia/Tokyo</a>" in web.get("/board").text


def test_the_api_move_asks_to_confirm_warnings_and_emails_the_customer(web, conn) -> None:
    from fixahead.web.auth import create_token

    job = seed_job(conn, now=now_utc())
    token = create_token(conn, role="scheduler", name="s", actor="test")
    h = {"Authorization": f"Bearer {token}"}
    night = {"technician_id": job.technicians[0],
             "starts_at": _day_after(conn, job.visit_id, 2).isoformat()}
    before = _emails(conn)
    r = web.post(f"/api/v1/jobs/{job.visit_id}/move", json=night, headers=h)
    assert r.status_code == 409 and "quiet hours" in r.json()["detail"]
    r = web.post(f"/api/v1/jobs/{job.visit_id}/move", json={**night, "confirm": True},
                 headers=h)
    assert r.status_code == 200 and _emails(conn) == before + 1


def test_the_job_page_gives_the_remaining_life_a_trend_rule_estimated(web, conn) -> None:
    from rules.incidents import Incident, IncidentChange
    from rules.store import save_changes

    people = add_people(conn)
    job = seed_job(conn, now=now_utc())
    (dev,) = conn.execute("SELECT id FROM devices WHERE device_id = %s",
                          (job.device_id,)).fetchone()
    (drain,) = conn.execute("SELECT metric_id FROM model_metrics WHERE model_id = 'WM-800' "
                            "AND name = 'drain_time'").fetchone()
    at = int(now_utc().timestamp() * 1000)
    inc = Incident(key=f"{dev}:E21:{at}", device=dev, fault="E21", kind="prediction",
                   severity="warning", action="technician", title="Drain pump wear",
                   state="open", opened_ms=at, updated_ms=at, sources=("drain_pump_wear",),
                   readings=((("ts_ms", float(at)), ("metric", float(drain)), ("value", 210.0),
                              ("score", 6.2)),))
    with conn.transaction():
        save_changes(conn, [IncidentChange("opened", inc)])
    login(web, people["viewer"])
    page = web.get(f"/jobs/incident/{inc.key}").text
    assert "Remaining life:</strong> about 6 days" in page
    assert "until drain_time reaches 300 s" in page
    plain = web.get(f"/jobs/{job.visit_id}").text  # raised by a threshold: no estimate
    assert "Remaining life" not in plain
