"""Inputs schemathesis found to answer 500: each is now the documented 422 (or 409), and a
saturated server answers 503 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from fixahead.web.admission import Saturated
from fixahead.web.auth import create_token
from fixahead.web.board_app import create_web_app
from tests.support.board import SECRET, now_utc, seed_job
from tests.support.web import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(database_url: str) -> Iterator[tuple[TestClient, psycopg.Connection, dict]]:
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=2,
                         live=False)
    with psycopg.connect(database_url, autocommit=True) as conn, \
            TestClient(app, raise_server_exceptions=False) as client:
        token = create_token(conn, role="admin", name="admin", actor="test")
        yield client, conn, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("field", ["name", "email", "language", "time_zone", "phone", "street",
                                   "postal_code", "city", "country", "preferred_channel",
                                   "quiet_start", "quiet_end"])
def test_patching_a_customer_field_to_null_is_a_422(setup, field: str) -> None:
    client, conn, admin = setup
    seeded = seed_job(conn, now=now_utc())
    r = client.patch(f"/api/v1/customers/{seeded.customer_id}", json={field: None},
                     headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_request"
    assert field in str(r.json()["detail"])


def test_a_customers_location_is_cleared_with_null_lat_and_lon(setup) -> None:
    client, conn, admin = setup
    seeded = seed_job(conn, now=now_utc())
    r = client.patch(f"/api/v1/customers/{seeded.customer_id}",
                     json={"lat": None, "lon": None}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["lat"] is None and r.json()["lon"] is None


@pytest.mark.parametrize("hours", [5e-324, 1e-9, 0.01])
def test_a_snooze_shorter_than_a_minute_is_a_422(setup, hours: float) -> None:
    client, conn, admin = setup
    seeded = seed_job(conn, now=now_utc())
    r = client.post(f"/api/v1/incidents/{seeded.incident_key}/snooze", json={"hours": hours},
                    headers=admin)
    assert r.status_code == 422, r.text
    (mutes,) = conn.execute("SELECT count(*) FROM incident_mutes").fetchone()
    assert mutes == 0


def test_a_snooze_of_a_minute_is_stored(setup) -> None:
    client, conn, admin = setup
    seeded = seed_job(conn, now=now_utc())
    r = client.post(f"/api/v1/incidents/{seeded.incident_key}/snooze",
                    json={"hours": 1 / 60}, headers=admin)
    assert r.status_code == 200, r.text


def test_a_saturated_server_answers_503_with_retry_after(setup) -> None:
    client, _conn, admin = setup

    class Full:
        def slot(self):  # a fake Admission whose slots never free up
            raise Saturated

    real = client.app.state.admission
    client.app.state.admission = Full()
    try:
        r = client.get("/api/v1/jobs", headers=admin)
        page = client.get("/login")
    finally:
        client.app.state.admission = real
    assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
    assert r.json()["error"] == "busy"
    assert page.status_code == 503 and page.headers["Retry-After"]
