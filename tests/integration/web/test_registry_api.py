"""The registry API on real PostgreSQL: roles, JSON errors, devices, customers, privacy."""

from __future__ import annotations

import psycopg
import pytest

from devices.credentials import verify_secret
from fixahead.web.auth import revoke_token
from tests.integration.web.conftest import TestClient

pytestmark = pytest.mark.integration

ADA = {"customer_id": "cus-ada", "name": "Ada Quellmalz", "email": "ada.q@example.org",
       "language": "de", "time_zone": "Europe/Berlin", "street": "Birkenallee 3",
       "city": "Potsdam", "lat": 52.4, "lon": 13.06}


def test_a_request_without_or_with_a_bad_token_is_refused(client: TestClient) -> None:
    r = client.get("/api/v1/models")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = client.get("/api/v1/models", headers={"Authorization": "Bearer fxa_nope"})
    assert r.status_code == 401 and "unknown or revoked" in r.json()["detail"]


def test_a_revoked_token_stops_working(client: TestClient, tokens, database_url: str) -> None:
    assert client.get("/api/v1/models", headers=tokens["viewer"]).status_code == 200
    with psycopg.connect(database_url, autocommit=True) as conn:
        (token_id,) = conn.execute("SELECT id FROM api_tokens WHERE role = 'viewer'").fetchone()
        assert revoke_token(conn, token_id, actor="test")
    assert client.get("/api/v1/models", headers=tokens["viewer"]).status_code == 401


def test_roles_decide_who_may_read_and_change_what(client: TestClient, tokens) -> None:
    assert client.get("/api/v1/devices", headers=tokens["viewer"]).status_code == 200
    r = client.get("/api/v1/customers", headers=tokens["viewer"])
    assert r.status_code == 403 and r.json() == {
        "error": "forbidden", "detail": "this needs the scheduler role; the token has viewer"}
    assert client.get("/api/v1/customers", headers=tokens["scheduler"]).status_code == 200
    r = client.post("/api/v1/customers", json=ADA, headers=tokens["scheduler"])
    assert r.status_code == 403
    r = client.post("/api/v1/devices", json={"model_id": "WM-800"}, headers=tokens["viewer"])
    assert r.status_code == 403
    assert client.post("/api/v1/customers", json=ADA, headers=tokens["admin"]).status_code == 201
    assert client.get("/api/v1/customers/cus-ada/export",
                      headers=tokens["scheduler"]).status_code == 403


def test_models_and_catalogs_answer_in_the_asked_language(client: TestClient, tokens) -> None:
    h = tokens["viewer"]
    models = {m["model_id"]: m for m in client.get("/api/v1/models", headers=h).json()}
    assert {"WM-800", "FR-300", "TD-500", "DW-600", "HP-900", "WH-200"} <= set(models)
    wm = client.get("/api/v1/models/WM-800", headers=h).json()
    assert [m["name"] for m in wm["metrics"]][:3] == ["motor_current", "water_inflow",
                                                     "drain_time"]
    old = client.get("/api/v1/models/WM-800/catalog?firmware=2.4&lang=de", headers=h).json()
    assert old["version"] == "2026.1"
    assert "E40" not in {e["code"] for e in old["entries"]}
    new = client.get("/api/v1/models/WM-800/catalog?firmware=3.1", headers=h).json()
    assert new["version"] == "2026.2" and "E40" in {e["code"] for e in new["entries"]}
    e21 = client.get("/api/v1/models/WM-800/codes/E21?lang=de", headers=h).json()
    assert e21["title"] == "Wasser wird nicht abgepumpt" and e21["steps"][0]["n"] == 1
    assert e21["customer_fixable"] and not e21["urgent"] and e21["skill"] == "plumbing"
    versions = client.get("/api/v1/models/HP-900/catalogs", headers=h).json()
    assert [v["version"] for v in versions] == ["2026.1", "2026.2"]


def test_unknown_things_are_json_404s_and_bad_input_json_422s(client: TestClient,
                                                             tokens) -> None:
    h = tokens["admin"]
    r = client.get("/api/v1/models/NOPE", headers=h)
    assert r.status_code == 404 and r.json() == {
        "error": "not_found", "detail": "model 'NOPE' is not in the catalog"}
    assert client.get("/api/v1/models/WM-800/codes/Z99", headers=h).status_code == 404
    assert client.get("/api/v1/devices/nope", headers=h).json()["error"] == "not_found"
    assert client.get("/api/v1/customers/nope", headers=h).status_code == 404
    r = client.get("/api/v1/models/WM-800/catalog?lang=fr", headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.lang"
    r = client.post("/api/v1/customers", json={**ADA, "email": "not-an-email"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.email"
    r = client.post("/api/v1/customers", json={**ADA, "time_zone": "Mars/Olympus"}, headers=h)
    assert r.status_code == 422 and "time_zone" in r.json()["detail"]
    r = client.post("/api/v1/devices", json={"model_id": "ZZ-1"}, headers=h)
    assert r.status_code == 422 and "not in the catalog" in r.json()["detail"]
    client.post("/api/v1/customers", json=ADA, headers=h)
    r = client.post("/api/v1/customers", json=ADA, headers=h)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    r = client.put("/api/v1/models", headers=h)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_devices_are_registered_rotated_and_revoked(client: TestClient, tokens,
                                                   database_url: str) -> None:
    h = tokens["admin"]
    r = client.post("/api/v1/devices", json={"model_id": "FR-300", "device_id": "fr-api-1",
                                             "firmware": "1.2"}, headers=h)
    assert r.status_code == 201
    secret = r.json()["secret"]
    shown = client.get("/api/v1/devices/fr-api-1", headers=tokens["viewer"]).json()
    assert shown["model_id"] == "FR-300" and secret not in str(shown)
    new = client.post("/api/v1/devices/fr-api-1/rotate", headers=h).json()["secret"]
    with psycopg.connect(database_url) as conn:
        (stored,) = conn.execute("SELECT secret_hash FROM devices WHERE device_id = 'fr-api-1'"
                                 ).fetchone()
    assert verify_secret(new, stored) and not verify_secret(secret, stored)
    r = client.post("/api/v1/devices/fr-api-1/revoke", headers=h)
    assert r.json()["state"] == "revoked"
    assert client.post("/api/v1/devices/fr-api-1/rotate", headers=h).status_code == 409


def test_bulk_import_is_all_or_nothing_with_a_row_report(client: TestClient, tokens) -> None:
    h = {**tokens["admin"], "Content-Type": "text/csv"}
    bad = "device_id,model\nok-1,WM-800\nok-2,XX-1\n"
    r = client.post("/api/v1/devices/import", content=bad, headers=h)
    assert r.status_code == 422 and r.json()["detail"] == [
        {"line": 3, "field": "model", "message": "'XX-1' is not in the catalog"}]
    assert client.get("/api/v1/devices", headers=h).json() == []
    r = client.post("/api/v1/devices/import", content=bad.replace("XX-1", "FR-300"), headers=h)
    assert r.status_code == 201 and set(r.json()["secrets"]) == {"ok-1", "ok-2"}


def test_households_consents_export_and_erasure_through_the_api(client: TestClient, tokens,
                                                                database_url: str) -> None:
    h = tokens["admin"]
    assert client.post("/api/v1/customers", json=ADA, headers=h).status_code == 201
    r = client.post("/api/v1/households", json={"customer_id": "cus-ada",
                                                "household_id": "hh-ada"}, headers=h)
    assert r.status_code == 201
    client.post("/api/v1/devices", json={"model_id": "WM-800", "device_id": "wm-ada"},
                headers=h)
    assert client.put("/api/v1/households/hh-ada/devices/wm-ada", headers=h).status_code == 204
    hh = client.get("/api/v1/households/hh-ada", headers=tokens["scheduler"]).json()
    assert hh["devices"] == ["wm-ada"]
    r = client.post("/api/v1/customers/cus-ada/consents", headers=h,
                    json={"kind": "proactive_email", "granted": True, "source": "api-test"})
    assert r.status_code == 201 and r.json()["proactive_email"] is True
    r = client.patch("/api/v1/customers/cus-ada", json={"city": "Berlin"}, headers=h)
    assert r.json()["city"] == "Berlin" and r.json()["name"] == ADA["name"]
    doc = client.get("/api/v1/customers/cus-ada/export", headers=h).json()
    assert doc["tables"]["customers"][0]["email"] == ADA["email"]
    assert [d["device_id"] for d in doc["tables"]["devices"]] == ["wm-ada"]
    assert len(doc["tables"]["consents"]) == 1
    r = client.delete("/api/v1/customers/cus-ada", headers=h)
    assert r.status_code == 200 and r.json()["devices_detached"] == 1
    assert client.get("/api/v1/customers/cus-ada", headers=h).status_code == 404
    with psycopg.connect(database_url) as conn:
        actions = [a for (a,) in conn.execute(
            "SELECT action FROM audit_log WHERE subject_id = 'cus-ada' ORDER BY id")]
        leftovers = conn.execute("SELECT count(*) FROM devices WHERE device_id = 'wm-ada'"
                                 ).fetchone()
    assert actions == ["customer.create", "customer.update", "customer.export",
                       "customer.erase"]
    trail = client.get("/api/v1/audit?subject_type=customer&subject_id=cus-ada", headers=h)
    assert [r["action"] for r in trail.json()] == actions
    assert all(r["actor"].startswith("token:") for r in trail.json())
    r = client.get("/api/v1/audit?subject_type=customer&subject_id=cus-ada",
                   headers=tokens["scheduler"])
    assert r.status_code == 403
    assert leftovers == (0,)


def test_the_openapi_document_lists_every_resource(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for resource in ("models", "customers", "households", "devices"):
        assert f"/api/v1/{resource}" in paths
    assert "/api/v1/models/{model_id}/catalog" in paths
