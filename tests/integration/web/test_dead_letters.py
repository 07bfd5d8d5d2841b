"""Operators see what ingest refused: the dead-letters page and API over dead letters made by a
real ingest worker from hostile traffic through a real broker."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from fixahead.services import prepare_database
from fixahead.web.auth import create_token
from fixahead.web.board_app import create_web_app
from tests.support.board import PASSWORD, SECRET, add_people
from tests.support.deadletters import BINARY, make_dead_letters
from tests.support.services import fresh_database
from tests.support.web import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def letters(admin_database_url: str, mqtt_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """One database with the dead letters of hostile traffic, people and tokens (made once
    for the module: it takes a broker and an ingest worker)."""
    with fresh_database(admin_database_url) as url:
        prepare_database(url)
        devices = make_dead_letters(url, mqtt_url, f"fixahead/dlt{uuid.uuid4().hex[:8]}")
        with psycopg.connect(url, autocommit=True) as conn:
            people = add_people(conn)
            for role in ("scheduler", "viewer"):
                people[f"{role}_token"] = create_token(conn, role=role, name=role,
                                                       actor="test")
        yield url, {**devices, **people}


def _client(url: str) -> TestClient:
    return TestClient(create_web_app(url, secret=SECRET, secure_cookies=False, pool_max=2,
                                     live=False))


def _sign_in(client: TestClient, email: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token,
                                    "next": "/dead-letters"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_a_scheduler_sees_each_refusal_with_its_reason_device_size_and_escaped_payload(
        letters) -> None:
    url, who = letters
    with _client(url) as client:
        _sign_in(client, who["scheduler"])
        page = client.get("/dead-letters")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/dead-letters">Dead letters</a>' in html  # in the menu
    for reason in ("control_character", "bad_json", "unknown_device", "acl_denied"):
        assert reason in html
    assert who["hostile"] in html and "stranger-1" in html
    # the script tag is shown as text, never as markup
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)" in html
    # the binary payload as a hex dump, its size
    assert "0000  f0 f1 f2 f3" in html and f"{len(BINARY)} B" in html
    assert "\\x00" in html or "\\u0000" in html  # the NUL of the event code, escaped


def test_the_page_filters_by_reason_device_and_time(letters) -> None:
    url, who = letters
    with _client(url) as client:
        _sign_in(client, who["viewer"])
        by_reason = client.get("/dead-letters?reason=unknown_device").text
        by_device = client.get(f"/dead-letters?device={who['hostile']}").text
        future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        later = client.get(f"/dead-letters?since={future}").text
        bad = client.get("/dead-letters?since=yesterday")
    rows = lambda html: html.count("<tr>") - 1  # noqa: E731 - header row
    assert rows(by_reason) == 1 and "stranger-1" in by_reason
    assert rows(by_device) == 4 and "stranger-1" not in by_device.split("<table")[1]
    assert "No dead letters." in later
    assert bad.status_code == 422


def test_a_viewer_sees_the_refusals_but_not_what_the_device_sent(letters) -> None:
    url, who = letters
    with _client(url) as client:
        _sign_in(client, who["viewer"])
        html = client.get("/dead-letters").text
    assert "control_character" in html and who["hostile"] in html
    assert "script" not in html.split("<table")[1] and "f0 f1" not in html
    assert "schedulers and admins only" in html


def test_the_api_lists_filters_and_pages_dead_letters_by_role(letters) -> None:
    url, who = letters
    sched = {"Authorization": f"Bearer {who['scheduler_token']}"}
    viewer = {"Authorization": f"Bearer {who['viewer_token']}"}
    with _client(url) as client:
        everything = client.get("/api/v1/dead-letters", headers=sched).json()
        first = client.get("/api/v1/dead-letters?limit=3", headers=sched).json()
        rest = client.get(f"/api/v1/dead-letters?limit=3&before_id={first['next_cursor']}",
                          headers=sched).json()
        hostile = client.get(f"/api/v1/dead-letters?device_id={who['hostile']}&reason=bad_json",
                             headers=sched).json()
        seen_by_viewer = client.get("/api/v1/dead-letters", headers=viewer).json()
        one = client.get(f"/api/v1/dead-letters/{first['items'][0]['id']}", headers=viewer)
        missing = client.get("/api/v1/dead-letters/999999", headers=viewer)
        anonymous = client.get("/api/v1/dead-letters")
        since = client.get("/api/v1/dead-letters", params={
            "since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, headers=viewer)
    assert len(everything["items"]) == 5 and everything["next_cursor"] is None
    assert everything["counts"] == {"acl_denied": 1, "bad_json": 2, "control_character": 1,
                                    "unknown_device": 1}
    assert [i["id"] for i in first["items"] + rest["items"]] == \
        [i["id"] for i in everything["items"]]
    kinds = {i["payload_kind"] for i in hostile["items"]}
    assert kinds == {"text", "binary"} and len(hostile["items"]) == 2
    binary = next(i for i in hostile["items"] if i["payload_kind"] == "binary")
    assert binary["payload_preview"] is None and bytes.fromhex(binary["payload_hex"]) == BINARY
    assert binary["payload_bytes"] == len(BINARY) and binary["detail"]
    assert all(i["detail"] is None and i["payload_hex"] is None
               for i in seen_by_viewer["items"])
    assert one.status_code == 200 and one.json()["payload_preview"] is None
    assert missing.status_code == 404 and anonymous.status_code == 401
    assert since.json()["items"] == [] and since.json()["counts"] == {}

