"""The production roles as separate loops: ingest writes the feed, a rules worker turns it
into incidents, a dispatch worker turns incidents into emails, each surviving a restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from devices import protocol
from devices.protocol import Event, Events
from devices.store import register_device
from fixahead.roles import run_rules
from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from tests.support.mqtt import Publisher, running_worker, wait_for

pytestmark = pytest.mark.integration


@contextmanager
def rules_worker(url: str) -> Iterator[threading.Thread]:
    stop = threading.Event()
    t = threading.Thread(target=run_rules, args=(url, stop), kwargs={
        "partitions": 2, "checkpoint_every_s": 0.5}, daemon=True)
    t.start()
    try:
        yield t
    finally:
        stop.set()
        t.join(30)


def scalar(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def dead(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT reason, detail FROM dead_letters").fetchall()


def error_event(prefix: str, device: str, seq: int, code: str, ts: int) -> tuple[str, bytes]:
    return (f"{prefix}/{device}/events",
            protocol.encode_events_json(Events(seq, [Event(ts, "error", code=code)])))


def test_error_codes_become_incidents_through_the_feed_across_a_rules_restart(
        database_url, mqtt_url, topic_prefix):
    with psycopg.connect(database_url, autocommit=True) as conn:
        for i in range(4):
            register_device(conn, f"r-{i}", "WM-800")
    settings = load_settings({}, topic_prefix=topic_prefix, ingest_client_id="ingest-roles")
    config = ingest_config(settings, database_url, mqtt_url)
    assert config.feed
    now = int(time.time() * 1000)
    with running_worker(config):
        pub = Publisher(mqtt_url)
        with rules_worker(database_url):
            pub.publish_all([error_event(topic_prefix, "r-0", 1, "E21", now),
                             error_event(topic_prefix, "r-1", 1, "E90", now)])
            wait_for(lambda: scalar(database_url, "SELECT count(*) FROM incidents") == 2,
                     what="two incidents")
            time.sleep(1.0)  # a checkpoint with the feed position
        # while no rules worker runs, more arrives; the next one continues from its position
        pub.publish_all([error_event(topic_prefix, "r-2", 1, "E21", now + 1000),
                         error_event(topic_prefix, "r-3", 1, "E10", now + 1000)])
        wait_for(lambda: scalar(database_url, "SELECT count(*) FROM events") >= 4,
                 what=f"events stored; dead letters: {dead(database_url)}")
        with rules_worker(database_url):
            wait_for(lambda: scalar(database_url, "SELECT count(*) FROM incidents") == 4,
                     what="four incidents")
            time.sleep(1.0)
        pub.close()
    assert scalar(database_url, "SELECT count(*) FROM incidents") == 4
    assert scalar(database_url,
                  "SELECT count(*) FROM incident_changes WHERE change = 'opened'") == 4
    positions = scalar(database_url, "SELECT min(last_id) FROM feed_positions "
                                     "WHERE consumer = 'rules'")
    assert positions == scalar(database_url, "SELECT max(id) FROM ingest_feed")
