"""Nothing accepted is lost or duplicated: malformed input, crashes, database restarts,
and two workers sharing a subscription."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from fixahead.settings import load_settings
from fixahead.wiring import ingest_config
from ingest.worker import CHANNELS
from tests.support.ingest import MALFORMED
from tests.support.mqtt import Publisher, running_worker, wait_for
from tests.support.services import mosquitto_binary
from tests.support.traffic import register_fleet, stored, telemetry_messages

pytestmark = pytest.mark.integration


def scalar(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def settings_for(topic_prefix: str, client_id: str, **more: object):
    return load_settings({}, topic_prefix=topic_prefix, ingest_client_id=client_id, **more)


def test_malformed_corpus_lands_in_dead_letters_while_good_traffic_is_stored(
        database_url, mqtt_url, topic_prefix):
    register_fleet(database_url, 3)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO devices (device_id, model_id, state) "
                     "VALUES ('wm-1', 'WM-800', 'active'), ('wm-2', 'WM-800', 'active'), "
                     "('old-1', 'WM-800', 'revoked')")
    good = telemetry_messages(topic_prefix, ["t-0000", "t-0001", "t-0002"], 20, 5)
    now = int(time.time() * 1000)
    bad = []
    for topic, payload, reason in MALFORMED:
        if reason in ("ts_future", "ts_past", "non_finite") and payload[:2] != b"FX":
            continue  # these fixtures are tied to the unit tests' fixed clock
        topic = topic.replace("fixahead/v1", topic_prefix, 1)
        if topic.startswith(topic_prefix) and topic.rsplit("/", 1)[1] in CHANNELS:
            bad.append((topic, payload, reason))  # only what the worker subscribes to
    bad.append((f"{topic_prefix}/wm-1/telemetry",
                f'{{"seq": 1, "samples": [{{"ts": {now + 86_400_000}, "metric": '
                f'"motor_current", "value": 1}}]}}'.encode(), "ts_future"))
    mixed: list[tuple[str, bytes]] = []
    for i, msg in enumerate(good):
        mixed.append(msg)
        if i < len(bad):
            mixed.append(bad[i][:2])
    # the same limits as the unit-test corpus was written for
    config = ingest_config(settings_for(topic_prefix, "ingest-corpus", max_message_bytes=8192,
                                        max_samples_per_message=50,
                                        dead_letter_max_bytes=1000), database_url, mqtt_url)
    with running_worker(config) as worker:
        pub = Publisher(mqtt_url)
        pub.publish_all(mixed)
        pub.close()
        wait_for(lambda: stored(database_url)[0] == 300, what="300 good rows")
        wait_for(lambda: scalar(database_url, "SELECT count(*) FROM dead_letters")
                 == len(bad), what="dead letters")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT topic, reason, payload, payload_bytes, device_id "
                            "FROM dead_letters").fetchall()
    got = sorted((t, r, bytes(p), n) for t, r, p, n, _ in rows)
    # payloads are kept up to the cap (1,000 bytes here), with the size they had
    want = sorted((t, r, p[:1000], len(p)) for t, p, r in bad)
    assert got == want
    assert any(n > 1000 for *_, n, _ in rows)  # the corpus has an oversized message
    # every dead letter whose topic names a valid device keeps that device (oversized too)
    assert {d for t, r, *_, d in rows if r == "oversized"} == {"wm-1"}
    assert stored(database_url) == (300, 0)
    counted = {s.labels["reason"]: s.value for m in worker.metrics.dead_letters.collect()
               for s in m.samples if s.name.endswith("_total")}
    assert sum(counted.values()) == len(want)


def test_two_workers_on_a_shared_subscription_split_the_load_and_store_everything_once(
        database_url, mqtt_url, topic_prefix):
    if not mosquitto_binary():
        pytest.skip("shared subscriptions need Mosquitto (apt-get install mosquitto)")
    devices = register_fleet(database_url, 20)
    messages = telemetry_messages(topic_prefix, devices, 100, 5)
    configs = [ingest_config(settings_for(topic_prefix, f"ingest-share-{i}"), database_url,
                             mqtt_url) for i in range(2)]
    with running_worker(configs[0]) as w1, running_worker(configs[1]) as w2:
        assert w1.shared and w2.shared
        pub = Publisher(mqtt_url)
        pub.publish_all(messages)
        pub.close()
        wait_for(lambda: stored(database_url)[0] >= 10_000, what="10,000 rows")
        time.sleep(0.5)
        r1, r2 = (w.metrics.registry.get_sample_value("fixahead_ingest_received_messages_total")
                  for w in (w1, w2))
    assert stored(database_url) == (10_000, 0)
    assert r1 > 500 and r2 > 500 and r1 + r2 == 2000


def _worker_process(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "fixahead.cli", "run", "ingest"],
                                env=env, stdout=out, stderr=out)


def test_worker_killed_repeatedly_mid_stream_stores_every_sample_exactly_once(
        database_url, mqtt_url, topic_prefix, tmp_path):
    devices = register_fleet(database_url, 26)  # the last one only sends the probe
    messages = telemetry_messages(topic_prefix, devices[:25], 160, 5)  # 4,000 msgs, 20k rows
    env = {**os.environ, "FIXAHEAD_DATABASE_URL": database_url, "FIXAHEAD_MQTT_URL": mqtt_url,
           "FIXAHEAD_TOPIC_PREFIX": topic_prefix, "FIXAHEAD_INGEST_CLIENT_ID": "ingest-crash",
           "FIXAHEAD_INGEST_BATCH_MAX_MESSAGES": "200"}
    log = tmp_path / "worker.log"
    proc = _worker_process(env, log)
    pub = Publisher(mqtt_url)
    try:
        # A stored probe proves the worker's persistent session exists; until then the probe
        # is republished (same seq, so it is stored once).
        probe = telemetry_messages(topic_prefix, devices[-1:], 1, 1)
        wait_for(lambda: (pub.publish_all(probe), stored(database_url)[0] >= 1)[1],
                 timeout=60, interval=1.0, what="worker ready")
        base = stored(database_url)[0]
        sender = threading.Thread(target=lambda: [pub.publish_all(messages[i:i + 200])
                                                  or time.sleep(0.05)
                                                  for i in range(0, len(messages), 200)])
        sender.start()
        rng = random.Random(7)
        kills = 0
        while sender.is_alive() or kills < 3:
            time.sleep(rng.uniform(0.4, 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            proc = _worker_process(env, log)
        sender.join()
        wait_for(lambda: stored(database_url)[0] >= base + 20_000, timeout=120,
                 what="all rows after crashes")
        time.sleep(1.0)  # anything duplicated late would show up now
        total, dupes = stored(database_url)
    finally:
        pub.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert kills >= 3
    assert dupes == 0
    assert total - base == 20_000


def test_database_restart_mid_stream_loses_nothing(mqtt_url, topic_prefix, tmp_path):
    from fixahead.embedded_pg import EmbeddedPostgres
    from fixahead.services import prepare_database
    from tests.support.services import free_port

    base_dir = Path("/var/lib/fixahead-test") if os.geteuid() == 0 else tmp_path
    pg = EmbeddedPostgres(base_dir / f"restart-{os.getpid()}-{random.randrange(1 << 30)}",
                          free_port())
    url = pg.start()
    try:
        prepare_database(url)
        devices = register_fleet(url, 10)
        messages = telemetry_messages(topic_prefix, devices, 200, 5)  # 10,000 rows
        config = ingest_config(settings_for(topic_prefix, "ingest-dbrestart",
                                            ingest_retry_max_s=0.5), url, mqtt_url)
        with running_worker(config) as worker:
            pub = Publisher(mqtt_url)
            pub.publish_all(messages[:700])
            wait_for(lambda: stored(url)[0] > 0, what="first rows")
            pg.stop(force=True)
            pub.publish_all(messages[700:1500])  # accepted by the broker while the db is down
            time.sleep(1.5)
            pg.start()
            pub.publish_all(messages[1500:])
            pub.close()
            wait_for(lambda: stored(url)[0] >= 10_000, timeout=60, what="all rows after restart")
            time.sleep(0.5)
            assert worker.metrics.registry.get_sample_value("fixahead_ingest_db_errors_total") >= 1
        assert stored(url) == (10_000, 0)
    finally:
        pg.destroy()
