"""Shared pieces of the benchmarks: services to run against and the result shape."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from devices.brokerurl import parse_broker_url
from fixahead.mosquitto import mosquitto_binary, running, write_config
from fixahead.settings import Settings

WINDOW = 30_000  # unacked QoS 1 publishes at most (packet ids are 16 bits)


def result(name: str, metrics: dict[str, Any], baselines: dict[str, Any],
           ratios: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The standard benchmark document."""
    config = {**config, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    return {"bench": name, "metrics": metrics, "baselines": baselines, "ratios": ratios,
            "config": config}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def bench_database(settings: Settings) -> Iterator[str]:
    """A fresh database on the configured server (or an embedded one), dropped afterwards."""
    from fixahead.services import database, prepare_database

    with database(settings) as server_url:
        name = f"fixahead_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
        try:
            prepare_database(url)
            yield url
        finally:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def bench_broker(settings: Settings) -> Iterator[tuple[str, str]]:
    """(URL, kind): the configured broker, else Mosquitto with our config, else amqtt."""
    if settings.mqtt_url:
        yield settings.mqtt_url, "configured"
        return
    if mosquitto_binary() is None:
        from fixahead.embedded_mqtt import EmbeddedBroker

        broker = EmbeddedBroker(_free_port())
        url = broker.start()
        try:
            yield url, "amqtt (embedded)"
        finally:
            broker.stop()
        return
    with tempfile.TemporaryDirectory(prefix="fxbench-mq-") as tmp:
        port = _free_port()
        with running(write_config(Path(tmp), port=port), port):
            yield f"mqtt://127.0.0.1:{port}", "mosquitto (project config)"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class WindowedPublisher:
    """A paho client publishing at QoS 1 with at most `WINDOW` messages unacknowledged.

    paho rescans its whole queue on every ack when its own in-flight window is capped, so the
    window is kept here instead (paho's is unlimited)."""

    def __init__(self, url: str, client_id: str) -> None:
        addr = parse_broker_url(url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.max_inflight_messages_set(0)
        self.client.max_queued_messages_set(0)
        self.sent = 0
        self._acked = 0
        self._window = threading.Condition()
        self._last: mqtt.MQTTMessageInfo | None = None
        self.client.on_publish = self._on_publish
        self.client.connect(addr.host, addr.port)
        self.client.loop_start()

    def _on_publish(self, c: mqtt.Client, u: object, mid: int, rc: object, p: object) -> None:
        with self._window:
            self._acked += 1
            self._window.notify()

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish; first wait (up to 60 s) while `WINDOW` messages are unacknowledged."""
        if self.sent - self._acked >= WINDOW:
            with self._window:
                self._window.wait_for(lambda: self.sent - self._acked < WINDOW, timeout=60)
        self._last = self.client.publish(topic, payload, qos=1)
        self.sent += 1

    def close(self, timeout_s: float = 120) -> None:
        """Wait for the last publish to be acknowledged, then disconnect."""
        if self._last is not None:
            self._last.wait_for_publish(timeout_s)
        self.client.disconnect()
        self.client.loop_stop()
