"""Hostile traffic through a real broker and ingest worker, so dead letters are made the way
production makes them: a NUL in an event code, a script tag, binary garbage, a stranger, and
the broker's notice that it refused the hostile device a `$share` subscription (as the audit
plugin publishes it; this broker is the test's plain one, so the test publishes the notice)."""

from __future__ import annotations

import time

import psycopg

from devices import protocol
from devices.protocol import Event, Events
from fixahead.aclnotices import notice
from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from ingest import count_dead_letters
from tests.support.mqtt import Publisher, running_worker, wait_for
from tests.support.traffic import register_fleet, telemetry_messages

SCRIPT = b'<script>alert("x")</script>'
BINARY = bytes(range(0xF0, 0x100)) + b"\x00\x01PK\x03\x04"


def make_dead_letters(database_url: str, mqtt_url: str, prefix: str) -> dict[str, str]:
    """Send good and hostile messages; wait until 5 dead letters are stored. The devices."""
    good, hostile = register_fleet(database_url, 2)
    now = int(time.time() * 1000) - 60_000
    nul_code = protocol.encode_events_json(Events(1, [Event(now, "error", code="E\x0021")]))
    messages = [*telemetry_messages(prefix, [good], 3, 1),
                (f"{prefix}/{hostile}/events", nul_code),
                (f"{prefix}/{hostile}/telemetry", SCRIPT),
                (f"{prefix}/{hostile}/telemetry", BINARY),
                (f"{prefix}/stranger-1/telemetry", b'{"seq": 1}'),
                (f"{prefix}/_broker/acl-denied",
                 notice(hostile, hostile, "subscribe", f"$share/ingest/{prefix}/+/telemetry", 3))]
    settings = load_settings({}, topic_prefix=prefix, ingest_client_id="ingest-deadletters",
                             ingest_batch_max_wait_ms=100)
    with running_worker(ingest_config(settings, database_url, mqtt_url)):
        pub = Publisher(mqtt_url)
        pub.publish_all(messages)
        pub.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            wait_for(lambda: sum(count_dead_letters(conn).values()) == 5,
                     what="5 dead letters")
    return {"good": good, "hostile": hostile}
