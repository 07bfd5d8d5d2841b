"""One device's poison messages never stop ingest for the others, also across a restart.

Two kinds of poison: a NUL in an event code or state (the decoder refuses it), and a message
the decoder accepts but PostgreSQL refuses (here a CHECK constraint the test adds, standing in
for any value the database cannot hold): the batch is bisected, the culprit dead-lettered with
reason `write_error`, everything else committed and acked.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from devices import protocol
from devices.protocol import Event, Events
from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from tests.support.mqtt import Publisher, running_worker, wait_for
from tests.support.traffic import register_fleet, stored, telemetry_messages

pytestmark = pytest.mark.integration


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def events(prefix: str, device: str, seqs: range, text: str, state: bool = False
           ) -> list[tuple[str, bytes]]:
    now = int(time.time() * 1000) - 60_000
    kind = "state" if state else "error"
    return [(f"{prefix}/{device}/events", protocol.encode_events_json(Events(
        s, [Event(now + s, kind, code=None if state else text, state=text if state else None)])))
        for s in seqs]


def test_nul_and_refused_events_from_one_device_do_not_stop_another_across_a_restart(
        database_url, mqtt_url, topic_prefix):
    healthy, hostile = register_fleet(database_url, 2)
    with psycopg.connect(database_url, autocommit=True) as conn:
        # the database refuses this code: stands in for any value it cannot hold
        conn.execute("ALTER TABLE events ADD CONSTRAINT poison CHECK (code IS DISTINCT FROM "
                     "'POISON')")
    settings = load_settings({}, topic_prefix=topic_prefix, ingest_client_id="ingest-poison",
                             ingest_batch_max_wait_ms=200)
    config = ingest_config(settings, database_url, mqtt_url)
    good = telemetry_messages(topic_prefix, [healthy], 300, 2)
    poison = (events(topic_prefix, hostile, range(0, 10), "E\x0021")
              + events(topic_prefix, hostile, range(10, 20), "run\x00", state=True)
              + events(topic_prefix, hostile, range(20, 30), "POISON")
              + events(topic_prefix, hostile, range(30, 40), "E21"))  # its good messages
    mixed = [m for pair in zip(good[:40], poison, strict=True) for m in pair] + good[40:150]

    with running_worker(config):
        pub = Publisher(mqtt_url)
        pub.publish_all(mixed)
        pub.close()
        wait_for(lambda: stored(database_url)[0] == 300, what="the healthy device's rows")
    # while the worker is down, more of both queue in its session; a restart must not stick
    pub = Publisher(mqtt_url)
    pub.publish_all(events(topic_prefix, hostile, range(40, 50), "POISON")
                    + events(topic_prefix, hostile, range(50, 60), "\x00")
                    + good[150:])
    pub.close()
    with running_worker(config) as worker:
        wait_for(lambda: stored(database_url)[0] == 600, what="all 600 healthy rows")
        wait_for(lambda: len(rows(database_url, "SELECT 1 FROM dead_letters")) == 50,
                 what="50 dead letters")
        assert worker.metrics.registry.get_sample_value(
            "fixahead_ingest_dead_letters_total", {"reason": "write_error"}) == 10

    assert stored(database_url) == (600, 0)
    dead = rows(database_url, "SELECT device_id, reason, count(*) FROM dead_letters "
                              "GROUP BY 1, 2 ORDER BY 2")
    assert dead == [(hostile, "control_character", 30), (hostile, "write_error", 20)]
    kept = rows(database_url, "SELECT code, count(*) FROM events GROUP BY code")
    assert kept == [("E21", 10)]  # the hostile device's own good events are stored too
    detail = rows(database_url, "SELECT detail FROM dead_letters WHERE reason = 'write_error' "
                                "LIMIT 1")[0][0]
    assert "CheckViolation" in detail
