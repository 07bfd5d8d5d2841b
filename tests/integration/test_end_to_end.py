"""The whole loop on a simulated fleet with seeded faults, through real services: Mosquitto →
ingest → PostgreSQL → rules → dispatch → a real SMTP server → the board's API; then
`fixahead evaluate` scores it against the simulator's ground truth and the product's
thresholds (detection, lead time, spam, availability)."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest

from dispatch.email.sink import SmtpSink
from fixahead.web.auth import create_token
from fixahead.web.board_app import create_web_app
from tests.support.board import SECRET
from tests.support.evaluation import run_evaluate as run
from tests.support.web import TestClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# a fixed scenario (seed and end): 100 households, 361 appliances, about 10 gradual faults
HOUSEHOLDS, DAYS, SEED, END = 100, 30, 1, "2026-11-22"


def _parts(msg: EmailMessage) -> set[str]:
    return {p.get_content_type() for p in msg.walk()}


@pytest.mark.timeout(1200)  # about 3 minutes on a quiet 2-core machine
def test_a_simulated_fleet_becomes_emails_and_visits_that_meet_the_targets(
        database_url: str, mqtt_url: str, topic_prefix: str, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    with SmtpSink(0) as sink:
        code, text = run(database_url, tmp_path, "evaluate", "--households", str(HOUSEHOLDS),
                         "--days", str(DAYS), "--seed", str(SEED), "--end", END,
                         "--json", str(out),
                         env={"FIXAHEAD_MQTT_URL": mqtt_url,
                              "FIXAHEAD_TOPIC_PREFIX": topic_prefix,
                              "FIXAHEAD_SMTP_HOST": "127.0.0.1",
                              "FIXAHEAD_SMTP_PORT": str(sink.port)})
        assert code == 0, text
        received = sink.handler.messages()
    doc = json.loads(out.read_text())
    det, dis, counts = doc["detection"], doc["dispatch"], doc["counts"]

    # every email the outbox says it sent reached the SMTP server once, readable
    with psycopg.connect(database_url) as conn:
        sent = conn.execute("SELECT message_id FROM email_outbox WHERE state = 'sent'"
                            ).fetchall()
        visits = conn.execute("SELECT id, state FROM visits").fetchall()
    ids = [m.parsed()["Message-ID"] for m in received]
    assert len(ids) == len(set(ids)) == len(sent) > 0
    assert {r[0] for r in sent} == set(ids)
    for m in received:
        msg = m.parsed()
        assert {"text/plain", "text/html"} <= _parts(msg), msg["Subject"]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # every visit dispatch made is on the scheduler's board, in its state (the scenario's
    # customers confirm none, so most holds have expired and been released by the end; which
    # are still held depends on when the last sweep ran, so none may be)
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=2,
                         live=False)
    with psycopg.connect(database_url, autocommit=True) as conn, TestClient(app) as client:
        token = create_token(conn, role="viewer", name="e2e", actor="test")
        page = client.get("/api/v1/jobs", params={"limit": 500},
                          headers={"Authorization": f"Bearer {token}"}).json()
    on_board = {(j["id"], j["state"]) for j in page["items"]}
    assert on_board == {(v[0], v[1]) for v in visits} and on_board

    # the scenario had something to find, and the platform's figures meet the targets
    assert counts["households"] == HOUSEHOLDS and det["gradual_faults"] >= 3
    assert det["recall_before_failure"] >= 0.8
    assert det["median_lead_days"] >= 2.0
    assert det["false_alarms_per_1000_device_days"] <= 2.0
    assert det["sudden_acted_share"] >= 0.8
    assert dis["emails_per_incident"] <= 1.2
    # Availability: this scenario books about two dozen visits, too few to resolve the
    # targets, which `fixahead bench availability` and `fixahead bench dispatch` measure over
    # many bookings. Since the simulator's households became as hard as real ones (issue 14:
    # the first free slot finds someone home about half the time), the bar here is that at
    # least half the visits find someone home. Beating the first free slot on the same
    # incidents is reported, not asserted: it does not hold on this scenario (home_rate_paired
    # against home_rate_baseline, both in `dis`: 10 of 19 against 12 with the old score, 12 of
    # 19 against 12 with the earliest-unless-likelier rule, 10 of 17 against 12 with the rule
    # and its wait cost), while the benches' 300 bookings give 76.7 % against 47.7 %.
    assert dis["home_rate"] >= 0.5, dis
