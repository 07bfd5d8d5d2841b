"""Telemetry and events published over MQTT end up in PostgreSQL exactly once."""

from __future__ import annotations

import time

import psycopg
import pytest

from devices import protocol
from devices.protocol import Event, Events, Telemetry
from devices.store import register_device
from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from tests.support.mqtt import Publisher, running_worker, wait_for

pytestmark = pytest.mark.integration


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0


@pytest.fixture
def config(database_url: str, mqtt_url: str, topic_prefix: str, request: pytest.FixtureRequest):
    settings = load_settings({}, topic_prefix=topic_prefix,
                             ingest_client_id=f"ingest-{request.node.name[:40]}")
    return ingest_config(settings, database_url, mqtt_url)


def test_json_and_binary_telemetry_are_stored_once(config, database_url, topic_prefix):
    with psycopg.connect(database_url, autocommit=True) as conn:
        register_device(conn, "wm-1", "WM-800")
    now = int(time.time() * 1000)
    topic = f"{topic_prefix}/wm-1/telemetry"
    json_msg = protocol.encode_telemetry_json(
        Telemetry(1, [now, now + 10], ["motor_current", "vibration"], [1.5, 0.2]))
    bin_msg = protocol.encode_telemetry_binary(
        Telemetry(2, [now + 20, now + 30], [1, 2], [2.5, 7.0]))
    with running_worker(config):
        pub = Publisher(f"mqtt://{config.broker.host}:{config.broker.port}")
        pub.publish_all([(topic, json_msg), (topic, bin_msg), (topic, json_msg)])
        pub.close()
        wait_for(lambda: count(database_url, "SELECT count(*) FROM telemetry") >= 4,
                 what="4 telemetry rows")
        time.sleep(0.3)
    assert count(database_url, "SELECT count(*) FROM telemetry") == 4
    assert count(database_url, "SELECT count(*) FROM ingest_messages") == 2
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT metric, value FROM telemetry ORDER BY time").fetchall()
    assert rows == [(1, 1.5), (4, 0.2), (1, 2.5), (2, 7.0)]


def test_error_codes_are_decoded_and_unknown_codes_flagged(config, database_url, topic_prefix):
    with psycopg.connect(database_url, autocommit=True) as conn:
        register_device(conn, "wm-2", "WM-800")
    now = int(time.time() * 1000)
    msg = protocol.encode_events_json(Events(7, [
        Event(now, "error", code="E21"),
        Event(now + 1, "error", code="E999"),
        Event(now + 2, "state", state="cycle_started"),
    ]))
    with running_worker(config):
        pub = Publisher(f"mqtt://{config.broker.host}:{config.broker.port}")
        pub.publish_all([(f"{topic_prefix}/wm-2/events", msg)])
        pub.close()
        wait_for(lambda: count(database_url, "SELECT count(*) FROM events") == 3, what="3 events")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT kind, code, state, title, severity, known FROM events ORDER BY time").fetchall()
    assert rows == [
        ("error", "E21", None, "Water does not drain", "error", True),
        ("error", "E999", None, None, None, False),
        ("state", None, "cycle_started", None, None, True),
    ]
