"""What an ingest worker is told; built from Settings by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from devices.brokerurl import BrokerAddress
from devices.protocol import Limits


@dataclass(frozen=True)
class IngestConfig:
    """What a worker needs to know; built from Settings by the composition root."""

    database_url: str
    broker: BrokerAddress
    client_id: str
    topic_prefix: str = "fixahead/v1"
    share_group: str | None = "ingest"
    session_expiry_s: int = 3600
    receive_maximum: int = 20000
    batch_max_messages: int = 2000
    batch_max_rows: int = 50000
    batch_max_wait_s: float = 0.05
    retry_max_s: float = 10.0
    registry_refresh_s: float = 30.0
    ledger_prune_every_s: float = 600.0
    limits: Limits = field(default_factory=Limits)
    protocol: int | None = None  # MQTT5 or MQTT311; None: ask the broker
    feed: bool = False  # also write committed batches to ingest_feed (rules in other processes)
    dead_letter_max_bytes: int = 4096  # payload bytes kept per dead letter
    dead_letter_retention_s: float = 14 * 86_400.0
    dead_letter_log_every_s: float = 60.0  # one log line per reason per this long
