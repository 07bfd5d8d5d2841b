"""The diagnostics API: scheduler or admin only, audited, requests readable by device,
incident and visit."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import psycopg
import pytest

from devices.provisioning import register
from dispatch.booking import Technician
from dispatch.booking_store import add_technician
from fixahead.web.app import create_app
from fixahead.web.auth import create_token
from fixahead.web.routes.api.diagnostics import router

with warnings.catch_warnings():
    # this starlette asks for `httpx2` and warns when it finds httpx; httpx works for tests
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture
def api(database_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        register(conn, model_id="WM-800", device_id="wm-api-1", actor="test")
        tokens = {role: create_token(conn, role=role, name=role, actor="test")
                  for role in ("viewer", "scheduler", "admin")}
    with TestClient(create_app(database_url, routers=[router], pool_max=2)) as client:
        yield client, tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_scheduler_asks_for_a_snapshot_and_it_waits_for_the_device(api, database_url) -> None:
    client, tokens = api
    r = client.post("/api/v1/diagnostics/requests", headers=auth(tokens["scheduler"]),
                    json={"device_id": "wm-api-1", "incident_id": "inc-9", "ttl_s": 600})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["state"] == "pending" and body["waiting"].startswith("waiting")
    assert body["findings"] == []
    one = client.get(f"/api/v1/diagnostics/requests/{body['request_id']}",
                     headers=auth(tokens["admin"]))
    assert one.status_code == 200 and one.json()["incident_id"] == "inc-9"
    listed = client.get("/api/v1/diagnostics/requests", params={"incident_id": "inc-9"},
                        headers=auth(tokens["scheduler"]))
    assert [x["request_id"] for x in listed.json()] == [body["request_id"]]
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT actor, detail->>'request_id' FROM audit_log "
                           "WHERE action = 'diagnostics.request'").fetchone()
    assert row is not None and row[0].endswith(":scheduler") and row[1] == body["request_id"]


def test_a_viewer_or_a_stranger_may_not_send_commands(api) -> None:
    client, tokens = api
    payload = {"device_id": "wm-api-1"}
    assert client.post("/api/v1/diagnostics/requests", json=payload).status_code == 401
    denied = client.post("/api/v1/diagnostics/requests", json=payload,
                         headers=auth(tokens["viewer"]))
    assert denied.status_code == 403
    assert client.get("/api/v1/diagnostics/requests", params={"device_id": "wm-api-1"},
                      headers=auth(tokens["viewer"])).status_code == 403


def test_an_unknown_device_or_kind_is_refused(api) -> None:
    client, tokens = api
    h = auth(tokens["admin"])
    assert client.post("/api/v1/diagnostics/requests", headers=h,
                       json={"device_id": "nobody"}).status_code == 404
    assert client.post("/api/v1/diagnostics/requests", headers=h,
                       json={"device_id": "wm-api-1", "kind": "reboot"}).status_code == 422
    assert client.get("/api/v1/diagnostics/requests/unknown-id-123",
                      headers=h).status_code == 404


def test_a_request_for_a_job_is_linked_to_the_jobs_incident(api, database_url) -> None:
    client, tokens = api
    with psycopg.connect(database_url, autocommit=True) as conn:
        tech = add_technician(conn, Technician(0, "Tech", frozenset({"plumbing"}), 52.5, 13.4))
        (visit,) = conn.execute(
            """INSERT INTO visits (technician_id, incident_id, customer_id, starts_at, ends_at,
                                   state, lat, lon, skill)
               VALUES (%s, 'inc-job', 'cus-0', now() + interval '1 day',
                       now() + interval '25 hours', 'booked', 52.5, 13.4, 'plumbing')
               RETURNING id""", (tech,)).fetchone()
    r = client.post("/api/v1/diagnostics/requests", headers=auth(tokens["scheduler"]),
                    json={"device_id": "wm-api-1", "visit_id": visit})
    assert r.status_code == 201, r.text
    assert (r.json()["visit_id"], r.json()["incident_id"]) == (visit, "inc-job")
