"""Shared pieces of the benchmarks: services to run against and the result shape."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from fixahead.mosquitto import mosquitto_binary, running, write_config
from fixahead.settings import Settings


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
