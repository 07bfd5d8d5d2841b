"""The production roles as separate processes, each killed once mid-run: every sample is
stored once, every incident opened once, every email delivered once (by Message-ID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from devices import protocol
from devices.protocol import Event, Events
from devices.store import register_device
from dispatch.email.sink import SmtpSink
from fixahead.lab.demo import WorldSpec, provision_world
from tests.support.mqtt import Publisher, wait_for
from tests.support.traffic import stored, telemetry_messages

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEVICES = [f"k-{i:02d}" for i in range(24)]


def scalar(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def outbox_states(url: str) -> list[tuple[str, int]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT state, count(*) FROM email_outbox GROUP BY 1").fetchall()


class Role:
    """One `fixahead run ROLE` process, restartable."""

    def __init__(self, role: str, env: dict[str, str], log: Path) -> None:
        self.role, self.env, self.log = role, env, log
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as out:
            return subprocess.Popen([sys.executable, "-m", "fixahead.cli", "run", self.role],
                                    env=self.env, stdout=out, stderr=out)

    def kill_and_restart(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = self._start()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def faults(prefix: str, devices: list[str], now: int) -> list[tuple[str, bytes]]:
    """One error code per device: a drain fault (self-help) or a leak (urgent call-out)."""
    out = []
    for i, device in enumerate(devices):
        code = "E21" if i % 2 == 0 else "E90"
        out.append((f"{prefix}/{device}/events", protocol.encode_events_json(
            Events(10_000 + i, [Event(now + i, "error", code=code)]))))
    return out


def test_each_role_killed_once_loses_and_doubles_nothing(database_url, mqtt_url, topic_prefix,
                                                         tmp_path):
    with psycopg.connect(database_url, autocommit=True) as conn:
        for device in [*DEVICES, "k-probe"]:
            register_device(conn, device, "WM-800")
        provision_world(conn, {f"t-{d}": [d] for d in DEVICES}, seed=3,
                        spec=WorldSpec(consent_share=1.0))
        # no quiet hours and no daily budget in play: one fault per customer, sent at once
        conn.execute("UPDATE customers SET quiet_start = '00:00', quiet_end = '00:00'")
    sink = SmtpSink().start()
    env = {**os.environ, "FIXAHEAD_DATABASE_URL": database_url, "FIXAHEAD_MQTT_URL": mqtt_url,
           "FIXAHEAD_TOPIC_PREFIX": topic_prefix, "FIXAHEAD_INGEST_CLIENT_ID": "ingest-loop",
           "FIXAHEAD_SMTP_HOST": "127.0.0.1", "FIXAHEAD_SMTP_PORT": str(sink.port),
           "FIXAHEAD_LINK_SECRET": "test-secret", "FIXAHEAD_RULES_PARTITIONS": "2",
           "FIXAHEAD_INGEST_BATCH_MAX_MESSAGES": "100",
           # half the fleet raising one code within a minute is a storm, whose emails the
           # guard holds for an operator (tests/integration/dispatch/test_storm_guard.py);
           # this test is about crashes, so the guard lets two dozen through
           "FIXAHEAD_STORM_MIN_COUNT": "100"}
    log = tmp_path / "roles.log"
    roles = {r: Role(r, env, log) for r in ("ingest", "rules", "dispatch")}
    pub = Publisher(mqtt_url)
    now = int(time.time() * 1000)
    telemetry = telemetry_messages(topic_prefix, DEVICES, 60, 5, start_ms=now - 3_600_000,
                                   healthy=True)
    first, second = DEVICES[:12], DEVICES[12:]
    try:
        # ingest's persistent session exists once a probe is stored
        probe = telemetry_messages(topic_prefix, ["k-probe"], 1, 1, start_ms=now - 7_200_000)
        wait_for(lambda: (pub.publish_all(probe), stored(database_url)[0] >= 1)[1],
                 timeout=90, interval=1.0, what="ingest ready")
        pub.publish_all(telemetry[:700] + faults(topic_prefix, first, now))
        wait_for(lambda: scalar(database_url, "SELECT count(*) FROM incidents "
                                "WHERE fault IN ('E21', 'E90')") >= 4,
                 timeout=90, what="first incidents")
        roles["rules"].kill_and_restart()
        pub.publish_all(telemetry[700:1000])
        roles["ingest"].kill_and_restart()
        pub.publish_all(telemetry[1000:] + faults(topic_prefix, second, now + 60_000))
        wait_for(lambda: scalar(database_url, "SELECT count(*) FROM email_outbox") >= 6,
                 timeout=90, what="first emails written")
        roles["dispatch"].kill_and_restart()
        wait_for(lambda: stored(database_url)[0] >= 1 + len(telemetry) * 5, timeout=120,
                 what="every sample", show=lambda: stored(database_url))
        wait_for(lambda: scalar(database_url, "SELECT count(*) FROM incidents "
                                "WHERE fault IN ('E21', 'E90')") >= len(DEVICES),
                 timeout=120, what="every incident")
        wait_for(lambda: scalar(database_url, "SELECT count(*) FROM email_outbox "
                                "WHERE state = 'sent'") >= len(DEVICES),
                 timeout=120, what=f"every email sent (log: {log})",
                 show=lambda: outbox_states(database_url))
        time.sleep(3.0)  # anything doubled late would show now
    finally:
        pub.close()
        for role in roles.values():
            role.stop()
        sink.stop()
    assert stored(database_url) == (1 + len(telemetry) * 5, 0)
    assert scalar(database_url, "SELECT count(*) FROM incidents "
                                "WHERE fault IN ('E21', 'E90')") == len(DEVICES)
    assert scalar(database_url, "SELECT count(*) FROM (SELECT device, fault FROM incidents "
                                "GROUP BY 1, 2 HAVING count(*) > 1) d") == 0
    sent = scalar(database_url, "SELECT count(*) FROM email_outbox WHERE state = 'sent'")
    assert sent == len(DEVICES)
    assert len(sink.handler.messages()) == sent
    assert sink.handler.raw_count == sent  # no Message-ID arrived twice
    recipients = {m.rcpt_tos[0] for m in sink.handler.messages()}
    assert len(recipients) == len(DEVICES)
