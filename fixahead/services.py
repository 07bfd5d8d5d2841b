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
    broker_dir: Path | None = None  # the broker's generated files
    embedded_broker: bool = False  # amqtt: MQTT 3.1.1 only, no shared subscriptions
    control_url: str | None = None  # Mosquitto's dynamic security, as the admin account

    @property
    def display_mqtt_url(self) -> str:
        """The broker URL without credentials, for printing."""
        return "mqtt://" + self.mqtt_url.rsplit("@", 1)[-1].split("://")[-1]

    def refresh_broker_accounts(self, prefix: str, secrets: dict[str, str] | None = None
                                ) -> None:
        """Tell the broker about devices just (re)registered with these secrets: Mosquitto
        over its control API, the embedded broker through its password file."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            if self.control_url is not None and secrets:
                from fixahead.brokercontrol import BrokerControl
                from fixahead.brokersync import announce

                with BrokerControl(self.control_url) as control:
                    announce(conn, control, prefix, secrets)
            elif self.embedded_broker and self.broker_dir is not None:
                from fixahead.broker_auth import refresh_auth_files

                refresh_auth_files(conn, self.broker_dir, prefix=prefix)


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The configured database URL, or an embedded PostgreSQL started for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    from fixahead.embedded_pg import EmbeddedPostgres

    pg = EmbeddedPostgres(settings.data_dir, settings.embedded_pg_port,
                          port_fixed="embedded_pg_port" in settings.model_fields_set)
    url = pg.start()
    log.info("PostgreSQL (embedded) on 127.0.0.1:%d, data in %s", pg.port, pg.pgdata)
    try:
        yield url
    finally:
        pg.stop()


def _with_credentials(port: int, username: str, password: str) -> str:
    return f"mqtt://{quote(username, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}"


def _mqtt_port(settings: Settings) -> int:
    from fixahead.ports import choose_port

    return choose_port(settings.embedded_mqtt_port, "FIXAHEAD_EMBEDDED_MQTT_PORT",
                       explicit="embedded_mqtt_port" in settings.model_fields_set,
                       what="embedded MQTT broker")


@contextlib.contextmanager
def _syncing(database_url: str, target: object) -> Iterator[None]:
    """Run the broker sync on a daemon thread for the duration of the block."""
    import threading

    from fixahead.brokersync import run_sync

    stop = threading.Event()
    thread = threading.Thread(target=run_sync, args=(database_url, target, stop),
                              name="broker-sync", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


@contextlib.contextmanager
def broker(settings: Settings, database_url: str) -> Iterator[Endpoints]:
    """The configured broker, or an embedded one that enforces the registry's accounts and
    topic rules, kept in step with the registry while it runs."""
    if settings.mqtt_url:
        yield Endpoints(database_url, settings.mqtt_url, settings.mqtt_url,
                        control_url=settings.broker_control_url)
        return
    from fixahead.mosquitto import mosquitto_binary

    if settings.embedded_broker == "mosquitto" or (
            settings.embedded_broker == "auto" and mosquitto_binary()):
        with local_mosquitto(settings, database_url) as ends:
            yield ends
        return
    from fixahead.broker_auth import PLATFORM, prepare_embedded, service_passwords
    from fixahead.brokersync import PasswordFileSync
    from fixahead.embedded_mqtt import EmbeddedBroker

    broker_dir = settings.data_dir / "broker"
    with psycopg.connect(database_url, autocommit=True) as conn:
        auth, ingest_user, ingest_password = prepare_embedded(
            conn, broker_dir, prefix=settings.topic_prefix)
    platform_password = service_passwords(broker_dir)[PLATFORM]
    port = _mqtt_port(settings)
    embedded = EmbeddedBroker(port, auth=auth)
    embedded.start()
    log.info("MQTT broker (embedded amqtt, MQTT 3.1.1) on 127.0.0.1:%d", port)
    try:
        with _syncing(database_url, PasswordFileSync(broker_dir, settings.topic_prefix)):
            yield Endpoints(database_url, _with_credentials(port, ingest_user, ingest_password),
                            _with_credentials(port, PLATFORM, platform_password), broker_dir,
                            embedded_broker=True)
    finally:
        embedded.stop()


@contextlib.contextmanager
def local_mosquitto(settings: Settings, database_url: str) -> Iterator[Endpoints]:
    """Mosquitto started with the project's config and the registry's accounts in its dynamic
    security plugin (MQTT 5, shared subscriptions, no message drops), kept in step with the
    registry, for as long as the block runs."""
    from fixahead.broker_auth import ADMIN, INGEST, PLATFORM, service_passwords, write_broker_files
    from fixahead.brokersync import MosquittoSync
    from fixahead.mosquitto import running

    broker_dir = settings.data_dir / "mosquitto"
    port = _mqtt_port(settings)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conf = write_broker_files(conn, broker_dir, port, prefix=settings.topic_prefix)
    passwords = service_passwords(broker_dir)
    control = _with_credentials(port, ADMIN, passwords[ADMIN])
    with running(conf, port, log=broker_dir / "mosquitto.log"):
        log.info("MQTT broker (local Mosquitto) on 127.0.0.1:%d (config %s)", port, conf)
        published = _publish_control(broker_dir, control)
        try:
            with _syncing(database_url, MosquittoSync(control, settings.topic_prefix)):
                yield Endpoints(database_url, _with_credentials(port, INGEST, passwords[INGEST]),
                                _with_credentials(port, PLATFORM, passwords[PLATFORM]),
                                broker_dir, embedded_broker=False, control_url=control)
        finally:
            published.unlink(missing_ok=True)


CONTROL_FILE = "control-url"


def _publish_control(broker_dir: Path, url: str) -> Path:
    """Leave the running broker's control URL (mode 600) for CLI commands on this host."""
    import os

    path = broker_dir / CONTROL_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(url + "\n")
    return path


def running_control_url(settings: Settings) -> str | None:
    """Where to announce devices: the configured control URL, or that of a local Mosquitto
    that `fixahead up` (or a role) runs from the same data directory."""
    if settings.broker_control_url:
        return settings.broker_control_url
    path = settings.data_dir / "mosquitto" / CONTROL_FILE
    return path.read_text().strip() if path.exists() else None


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
