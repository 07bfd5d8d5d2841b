"""Build each role's objects from settings: the one place that knows every package."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.brokerurl import BrokerAddress, parse_broker_url
from devices.protocol import Limits
from dispatch.ports import Ports
from fixahead.settings import Settings
from ingest import queries as ingest_queries
from ingest.worker import IngestConfig
from rules import queries as rules_queries

if TYPE_CHECKING:
    from rules.engine import Engine


def limits(settings: Settings) -> Limits:
    """Protocol limits from settings."""
    return Limits(
        max_message_bytes=settings.max_message_bytes,
        max_samples=settings.max_samples_per_message,
        max_future_skew_ms=int(settings.max_future_skew_s * 1000),
        max_past_age_ms=int(settings.max_past_age_s * 1000),
    )


def ingest_config(settings: Settings, database_url: str, mqtt_url: str,
                  *, protocol: int | None = None, feed: bool | None = None) -> IngestConfig:
    """An ingest worker's configuration; ingest credentials override those in the URL."""
    addr = parse_broker_url(mqtt_url)
    if settings.ingest_username:
        addr = BrokerAddress(addr.host, addr.port, addr.tls, settings.ingest_username,
                             settings.ingest_password)
    return IngestConfig(
        database_url=database_url,
        broker=addr,
        client_id=settings.ingest_client_id,
        topic_prefix=settings.topic_prefix,
        share_group=settings.ingest_share_group or None,
        session_expiry_s=settings.ingest_session_expiry_s,
        receive_maximum=settings.ingest_receive_maximum,
        batch_max_messages=settings.ingest_batch_max_messages,
        batch_max_rows=settings.ingest_batch_max_rows,
        batch_max_wait_s=settings.ingest_batch_max_wait_ms / 1000,
        retry_max_s=settings.ingest_retry_max_s,
        limits=limits(settings),
        protocol=protocol,
        feed=settings.ingest_feed if feed is None else feed,
        dead_letter_max_bytes=settings.dead_letter_max_bytes,
        dead_letter_retention_s=settings.dead_letter_retention_days * 86_400.0,
        dead_letter_log_every_s=settings.dead_letter_log_every_s,
    )


def dispatch_ports() -> Ports:
    """What dispatch reads of other areas, through their owners' functions."""
    return Ports(state_times=ingest_queries.state_times,
                 incident_states=rules_queries.states,
                 remaining_life=rules_queries.remaining_life)


def standard_engine(*, generic: bool = False) -> Engine:
    """A rule engine with the packaged rule packs over the packaged catalog (and the generic
    detector on every metric no rule covers, when `generic`)."""
    # imported here: only rule workers pay for loading Numba, not ingest or web processes
    from devices.catalog import load_catalog
    from rules.compiler import compile_rules
    from rules.engine import Engine
    from rules.loader import load_packs

    catalog = load_catalog()
    return Engine(compile_rules(load_packs(catalog), catalog), catalog, generic=generic)
