"""Simulated traffic, trouble included, is accepted by the real ingest worker: nothing is
dead-lettered, duplicates are stored once, every sample lands in PostgreSQL."""

from __future__ import annotations

import time

import psycopg
import pytest

from devices import protocol
from devices.catalog import load_catalog
from devices.store import register_device
from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from simulator.plan import plan
from simulator.run import RunSpec, publish_scenario
from simulator.timebase import window_ending_now
from simulator.traffic import Traffic
from tests.support.mqtt import running_worker, wait_for

pytestmark = pytest.mark.integration


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0


def test_ingest_stores_a_simulated_day_once_and_rejects_nothing(
        database_url: str, mqtt_url: str, topic_prefix: str) -> None:
    window = window_ending_now(1, 0, int(time.time() * 1000))
    scenario = plan(5, window, 31, load_catalog(), fault_rate=40, network_rate=0.5)
    assert any(f.kind == "duplicates" for f in scenario.network)
    unique: dict[tuple[str, int], int] = {}
    events = 0
    for m in Traffic(scenario, topic_prefix):
        if m.channel == "telemetry":
            unique[(m.device_id, m.seq)] = len(protocol.decode_telemetry(m.payload, 1000).ts_ms)
        elif m.channel == "events" and not m.duplicate:
            events += len(protocol.decode_events(m.payload, 1000).events)
            unique[(m.device_id, m.seq)] = 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        for d in scenario.devices:
            register_device(conn, d.device_id, d.model_id)
    settings = load_settings({}, topic_prefix=topic_prefix, ingest_client_id="ingest-sim")
    spec = RunSpec(households=5, window=window, seed=31, speed=0, url=mqtt_url,
                   prefix=topic_prefix)
    with running_worker(ingest_config(settings, database_url, mqtt_url)):
        publish_scenario(spec, scenario)
        wait_for(lambda: count(database_url, "SELECT count(*) FROM ingest_messages")
                 + count(database_url, "SELECT count(*) FROM dead_letters") >= len(unique),
                 timeout=60, what="every message processed")
        time.sleep(0.5)
    with psycopg.connect(database_url) as conn:
        dead = conn.execute("SELECT reason, detail FROM dead_letters LIMIT 5").fetchall()
    assert dead == []
    assert count(database_url, "SELECT count(*) FROM ingest_messages") == len(unique)
    assert count(database_url, "SELECT count(*) FROM telemetry") == sum(unique.values())
    assert count(database_url, "SELECT count(*) FROM events") == events
