"""Resolve the database and broker from settings, starting embedded ones when none is given."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from devices.catalog import load_catalog
from devices.store import sync_catalog
from fixahead.migrate import upgrade
from fixahead.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoints:
    """Where the running platform's services are, and as whom to reach the broker."""

    database_url: str
    mqtt_url: str  # as the ingest account where the broker enforces accounts
    platform_mqtt_url: str  # as the platform account (publishing commands, monitoring)
    broker_dir: Path | None = None  # password/ACL files of an embedded broker
    embedded_broker: bool = False  # amqtt: MQTT 3.1.1 only, no shared subscriptions
    broker_pid: int | None = None  # a Mosquitto we started: SIGHUP reloads its accounts

    @property
    def display_mqtt_url(self) -> str:
        """The broker URL without credentials, for printing."""
        return "mqtt://" + self.mqtt_url.rsplit("@", 1)[-1].split("://")[-1]

    def refresh_broker_accounts(self, prefix: str) -> None:
        """Rewrite the embedded broker's password file after devices were (de)registered."""
        if self.broker_dir is None:
            return
        from fixahead.broker_auth import refresh_auth_files

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            refresh_auth_files(conn, self.broker_dir, prefix=prefix, reload_pid=self.broker_pid)


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The configured database URL, or an embedded PostgreSQL started for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    from fixahead.embedded_pg import EmbeddedPostgres

    pg = EmbeddedPostgres(settings.data_dir, settings.embedded_pg_port)
    url = pg.start()
    try:
        yield url
    finally:
        pg.stop()


def _with_credentials(port: int, username: str, password: str) -> str:
    return f"mqtt://{quote(username, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}"


@contextlib.contextmanager
def broker(settings: Settings, database_url: str) -> Iterator[Endpoints]:
    """The configured broker, or an embedded amqtt broker that enforces the registry's
    accounts and topic rules (the same as the generated Mosquitto ACL)."""
    if settings.mqtt_url:
        yield Endpoints(database_url, settings.mqtt_url, settings.mqtt_url)
        return
    from fixahead.mosquitto import mosquitto_binary

    if settings.embedded_broker == "mosquitto" or (
            settings.embedded_broker == "auto" and mosquitto_binary()):
        with local_mosquitto(settings, database_url) as ends:
            yield ends
        return
    from fixahead.broker_auth import PLATFORM, prepare_embedded
    from fixahead.embedded_mqtt import EmbeddedBroker

    broker_dir = settings.data_dir / "broker"
    with psycopg.connect(database_url, autocommit=True) as conn:
        auth, ingest_user, ingest_password = prepare_embedded(
            conn, broker_dir, prefix=settings.topic_prefix)
    from fixahead.broker_auth import service_passwords

    platform_password = service_passwords(broker_dir)[PLATFORM]
    embedded = EmbeddedBroker(settings.embedded_mqtt_port, auth=auth)
    embedded.start()
    log.info("embedded MQTT broker on 127.0.0.1:%d (MQTT 3.1.1, registry accounts)",
             settings.embedded_mqtt_port)
    try:
        yield Endpoints(
            database_url,
            _with_credentials(settings.embedded_mqtt_port, ingest_user, ingest_password),
            _with_credentials(settings.embedded_mqtt_port, PLATFORM, platform_password),
            broker_dir,
            embedded_broker=True,
        )
    finally:
        embedded.stop()


@contextlib.contextmanager
def local_mosquitto(settings: Settings, database_url: str) -> Iterator[Endpoints]:
    """Mosquitto started with the project's config and the registry's accounts (MQTT 5,
    shared subscriptions, no message drops), for as long as the block runs."""
    from fixahead.broker_auth import INGEST, PLATFORM, service_passwords, write_broker_files
    from fixahead.mosquitto import running

    broker_dir = settings.data_dir / "mosquitto"
    port = settings.embedded_mqtt_port
    with psycopg.connect(database_url, autocommit=True) as conn:
        conf = write_broker_files(conn, broker_dir, port, prefix=settings.topic_prefix)
    passwords = service_passwords(broker_dir)
    with running(conf, port, log=broker_dir / "mosquitto.log") as proc:
        log.info("local Mosquitto on 127.0.0.1:%d (registry accounts, %s)", port, conf)
        yield Endpoints(database_url, _with_credentials(port, INGEST, passwords[INGEST]),
                        _with_credentials(port, PLATFORM, passwords[PLATFORM]), broker_dir,
                        embedded_broker=False, broker_pid=proc.pid)


def connector(url: str) -> Callable[[], contextlib.AbstractContextManager[psycopg.Connection]]:
    """A factory of autocommit connections to `url` (what scheduled jobs take)."""

    @contextlib.contextmanager
    def connect() -> Iterator[psycopg.Connection]:
        with psycopg.connect(url, autocommit=True) as conn:
            yield conn

    return connect


def prepare_database(url: str) -> None:
    """Apply migrations and load the appliance catalog into the registry."""
    applied = upgrade(url)
    if applied:
        log.info("applied migrations %s", applied)
    with psycopg.connect(url, autocommit=True) as conn:
        sync_catalog(conn, load_catalog())


@contextlib.contextmanager
def platform(settings: Settings) -> Iterator[Endpoints]:
    """Database (migrated, catalog loaded) and broker, embedded where not configured."""
    with database(settings) as db_url:
        prepare_database(db_url)
        with broker(settings, db_url) as ends:
            yield ends
