"""Dead letters as operators query them; a revoked device's next message is refused at once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from devices.provisioning import register, revoke
from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from ingest import count_dead_letters, get_dead_letter, list_dead_letters, prune_dead_letters
from tests.support.mqtt import Publisher, running_worker, wait_for
from tests.support.traffic import telemetry_messages

pytestmark = pytest.mark.integration


def test_dead_letters_filter_by_reason_device_and_time_and_page(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for i in range(5):
            conn.execute("INSERT INTO dead_letters (topic, device_id, reason, detail, payload, "
                         "payload_bytes, received_at) VALUES (%s, %s, %s, 'd', %s, %s, %s)",
                         (f"fixahead/v1/wm-{i % 2}/events", f"wm-{i % 2}",
                          "bad_json" if i < 3 else "oversized", b"\x00{x" * 100, 300 + i,
                          datetime.now(UTC) - timedelta(days=i * 10)))
        assert count_dead_letters(conn) == {"bad_json": 3, "oversized": 2}
        wm0 = list_dead_letters(conn, device_id="wm-0")
        assert [d.device_id for d in wm0] == ["wm-0"] * 3
        recent = list_dead_letters(conn, since=datetime.now(UTC) - timedelta(days=15))
        assert len(recent) == 2
        page = list_dead_letters(conn, limit=2)
        rest = list_dead_letters(conn, before_id=page[-1].id)
        assert [d.id for d in page + rest] == sorted((d.id for d in page + rest), reverse=True)
        assert len(page + rest) == 5
        one = get_dead_letter(conn, page[0].id)
        assert one is not None and one.preview(8) == "\\x00{x\\x00{x\\x00{…" and one.truncated
        assert prune_dead_letters(conn, older_than_s=14 * 86_400) == 3
        assert sum(count_dead_letters(conn).values()) == 2


def test_a_revoked_devices_next_message_is_dead_lettered_without_waiting_for_a_refresh(
        database_url: str, mqtt_url: str, topic_prefix: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        register(conn, model_id="WM-800", device_id="wm-rev", actor="t")
    settings = load_settings({}, topic_prefix=topic_prefix, ingest_client_id="ingest-revoke")
    config = ingest_config(settings, database_url, mqtt_url)
    assert config.registry_refresh_s >= 30
    messages = telemetry_messages(topic_prefix, ["wm-rev"], 2, 1)
    with running_worker(config):
        pub = Publisher(mqtt_url)
        pub.publish_all(messages[:1])
        with psycopg.connect(database_url, autocommit=True) as conn:
            wait_for(lambda: conn.execute("SELECT count(*) FROM telemetry").fetchone()[0] == 1)
            revoke(conn, "wm-rev", actor="t")
            revoked_at = time.monotonic()
            pub.publish_all(messages[1:])
            wait_for(lambda: count_dead_letters(conn).get("revoked_device") == 1, timeout=10)
            assert time.monotonic() - revoked_at < 5
        pub.close()
