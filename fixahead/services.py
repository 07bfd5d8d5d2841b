"""Resolve the database and broker from settings, starting embedded ones when none is given."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from devices.catalog import load_catalog
from devices.store import sync_catalog
from fixahead.migrate import upgrade
from fixahead.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoints:
    """Where the running platform's database and broker are."""

    database_url: str
    mqtt_url: str


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


@contextlib.contextmanager
def broker(settings: Settings) -> Iterator[str]:
    """The configured broker URL, or an embedded amqtt broker started for the duration."""
    if settings.mqtt_url:
        yield settings.mqtt_url
        return
    from fixahead.embedded_mqtt import EmbeddedBroker

    embedded = EmbeddedBroker(settings.embedded_mqtt_port)
    url = embedded.start()
    log.info("embedded MQTT broker on %s (MQTT 3.1.1)", url)
    try:
        yield url
    finally:
        embedded.stop()


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
    with database(settings) as db_url, broker(settings) as mqtt_url:
        prepare_database(db_url)
        yield Endpoints(db_url, mqtt_url)
