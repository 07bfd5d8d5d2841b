"""The foundation against real services: migrations, time_bucket, embedded services, and a
Mosquitto config that keeps every queued message."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fixahead.migrate import upgrade
from tests.support.mqtt import Publisher, wait_for
from tests.support.services import Mosquitto, free_port, fresh_database, mosquitto_binary

pytestmark = pytest.mark.integration


def test_upgrade_twice_changes_nothing_the_second_time(admin_database_url):
    with fresh_database(admin_database_url) as url:
        first = upgrade(url)
        with psycopg.connect(url) as conn:
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                                  ).fetchone()
        assert first and first[0] == 0
        assert upgrade(url) == []
        with psycopg.connect(url) as conn:
            again = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                                 ).fetchone()
            recorded = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        assert tables == again and recorded == (len(first),)


def test_concurrent_upgrades_apply_each_migration_once(admin_database_url):
    with fresh_database(admin_database_url) as url:
        results: list[list[int]] = []
        threads = [threading.Thread(target=lambda: results.append(upgrade(url)))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        applied = sorted(v for r in results for v in r)
        assert applied == sorted(set(applied)) and applied


def test_time_bucket_matches_timescaledb_origin(database_url):
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            # typed: TimescaleDB overloads time_bucket for date, timestamp and timestamptz
            """SELECT time_bucket(INTERVAL '15 minutes', TIMESTAMPTZ '2026-11-22 14:37:12+00'),
                      time_bucket(INTERVAL '1 day', TIMESTAMPTZ '2026-11-22 14:37:12+00'),
                      time_bucket(INTERVAL '7 days', TIMESTAMPTZ '2026-11-22 14:37:12+00')"""
        ).fetchone()
    assert rows == (datetime(2026, 11, 22, 14, 30, tzinfo=UTC),
                    datetime(2026, 11, 22, tzinfo=UTC),
                    datetime(2026, 11, 16, tzinfo=UTC))  # weeks start Monday (2000-01-03)


def test_hourly_rollup_view_aggregates_telemetry(database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("""INSERT INTO telemetry VALUES
            ('2026-11-22 10:05+00', 1, 1, 2.0), ('2026-11-22 10:55+00', 1, 1, 4.0),
            ('2026-11-22 11:01+00', 1, 1, 9.0)""")
        rows = conn.execute("SELECT bucket, n, avg, min, max FROM telemetry_hourly "
                            "ORDER BY bucket").fetchall()
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [(2, 3.0, 2.0, 4.0), (1, 9.0, 9.0, 9.0)]


def test_embedded_postgres_starts_is_reused_and_stops(tmp_path):
    from fixahead.embedded_pg import EmbeddedPostgres

    base = Path("/var/lib/fixahead-test") if os.geteuid() == 0 else tmp_path
    data = base / f"embedded-{os.getpid()}-{free_port()}"
    pg = EmbeddedPostgres(data, free_port())
    try:
        url = pg.start()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (x int)")
        again = EmbeddedPostgres(data, free_port())  # a second start finds it running
        assert again.start() == url
        again.stop()  # did not start it: leaves it running
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
        pg.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2)
        pg.start()  # the data survived
        with psycopg.connect(pg.url) as conn:
            assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    finally:
        pg.destroy()


# amqtt does not close its client transports on shutdown; Python reports them when collected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_embedded_broker_carries_qos1_messages():
    from fixahead.embedded_mqtt import EmbeddedBroker

    broker = EmbeddedBroker(free_port())
    url = broker.start()
    got: list[bytes] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="emb-sub")
    sub.on_message = lambda c, u, m: got.append(m.payload)
    sub.connect("127.0.0.1", broker.port)
    subscribed = threading.Event()
    sub.on_subscribe = lambda *args: subscribed.set()
    sub.loop_start()
    sub.subscribe("emb/+/x", qos=1)
    assert subscribed.wait(10)
    pub = Publisher(url)
    pub.publish_all([(f"emb/{i}/x", str(i).encode()) for i in range(50)])
    pub.close()
    wait_for(lambda: len(got) == 50, what="50 messages")
    sub.disconnect()
    sub.loop_stop()
    broker.stop()


def test_project_mosquitto_config_keeps_far_more_than_1000_queued_messages(tmp_path):
    if not mosquitto_binary():
        pytest.skip("needs the mosquitto binary (apt-get install mosquitto)")
    broker = Mosquitto(tmp_path).start()
    try:
        def client() -> mqtt.Client:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="slow-sub",
                            clean_session=False, protocol=mqtt.MQTTv311)
            c.connect("127.0.0.1", broker.port)
            return c

        slow = client()
        subscribed = threading.Event()
        slow.on_subscribe = lambda *args: subscribed.set()
        slow.loop_start()
        slow.subscribe("q/#", qos=1)
        assert subscribed.wait(10)
        slow.disconnect()
        slow.loop_stop()  # offline with a persistent session: messages queue for it
        pub = Publisher(broker.url)
        pub.publish_all([(f"q/{i}", b"x") for i in range(5000)])
        pub.close()
        got: list[int] = []
        slow = client()
        slow.on_message = lambda c, u, m: got.append(1)
        slow.loop_start()
        wait_for(lambda: len(got) >= 5000, timeout=30, what="all 5000 queued messages")
        slow.disconnect()
        slow.loop_stop()
    finally:
        broker.stop()
