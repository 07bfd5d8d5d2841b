"""Typed settings, read from `FIXAHEAD_*` variables of an environment passed in as a mapping."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PREFIX = "FIXAHEAD_"


def default_data_dir() -> Path:
    """Where embedded services keep their data: a system directory for root, else per user."""
    if os.geteuid() == 0:
        return Path("/var/lib/fixahead")
    return Path(platformdirs.user_data_dir("fixahead"))


class Settings(BaseSettings):
    """Everything a Fixahead process can be told; unset URLs mean embedded services."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="forbid", frozen=True)

    database_url: str | None = Field(
        default=None, description="PostgreSQL/TimescaleDB URL; unset starts an embedded PostgreSQL"
    )
    mqtt_url: str | None = Field(
        default=None, description="mqtt://user:pass@host:port; unset starts an embedded broker"
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    embedded_pg_port: int = 54329
    embedded_mqtt_port: int = 18830
    embedded_broker: Literal["auto", "amqtt", "mosquitto"] = Field(
        default="auto",
        description="With no MQTT URL: a local Mosquitto when installed (auto), else amqtt",
    )
    broker_control_url: str | None = Field(
        default=None, description="mqtt://fixahead.admin:pass@host:port of Mosquitto's dynamic "
        "security control API: new devices' secrets are announced there at once")
    db_pool_max: int = 8

    topic_prefix: str = "fixahead/v1"
    ingest_client_id: str = "fixahead-ingest-1"
    ingest_share_group: str = "ingest"
    ingest_username: str | None = None
    ingest_password: str | None = None
    ingest_session_expiry_s: int = 3600
    ingest_receive_maximum: int = 20000
    ingest_batch_max_messages: int = 2000
    ingest_batch_max_rows: int = 50000
    ingest_batch_max_wait_ms: int = 50
    ingest_retry_max_s: float = 10.0
    ingest_feed: bool = Field(
        default=True, description="Write committed batches to ingest_feed for `run rules`"
    )
    rules_partitions: int = 8
    rules_generic_detector: bool = Field(
        default=False, description="Run the generic anomaly detector on every metric no rule "
        "pack covers: info incidents ANOMALY:<metric> for the board, never emailed (off: it "
        "raises false alarms on the simulated fleet, see docs/rules.md)")
    bench_ingest_processes: str = Field(
        default="1,2",
        description="`bench ingest`: worker process counts to measure, comma-separated; the "
        "headline uses the fastest",
    )

    max_message_bytes: int = 65536
    max_samples_per_message: int = 1000
    max_future_skew_s: float = 300.0
    max_past_age_s: float = 7 * 86400.0
    dead_letter_max_bytes: int = Field(
        default=4096, ge=0, description="Payload bytes kept per dead letter (the size is kept)")
    dead_letter_retention_days: float = Field(
        default=14.0, gt=0, description="Dead letters older than this are deleted")
    dead_letter_log_every_s: float = Field(
        default=60.0, ge=0, description="At most one log line per dead-letter reason this often")

    smtp_host: str | None = Field(
        default=None, description="SMTP server; unset starts an embedded SMTP sink"
    )
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: bool = False
    mail_from_name: str = Field(default="Fixahead Service", description="Sender name")
    mail_from_address: str = Field(default="service@fixahead.example",
                                   description="Sender address alone (no name, no <>)")
    proposal_hold_hours: int = Field(
        default=48, ge=1, description="A proposed visit is held this long after its email "
        "can first be read (after quiet hours)")
    storm_count: int = Field(default=50, ge=1, description="Openings of one code on one "
                             "model within the storm window that make a fleet incident")
    storm_share: float = Field(default=0.05, gt=0, le=1, description="... or this share of "
                               "the model's fleet, whichever is smaller")
    storm_min_count: int = Field(default=5, ge=2, description="... but never fewer than this")
    storm_window_minutes: float = Field(default=10, gt=0, le=1440)
    email_cap_per_hour: int = Field(default=1000, ge=1, description="Proactive decisions "
                                    "sent per hour at most; the rest are held and shown")
    link_secret: str | None = Field(
        default=None, description="Signs customer links; unset: a random one kept in data_dir"
    )
    public_base_url: str = "http://127.0.0.1:8000"
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    embedded_smtp_port: int = 8025

    metrics_port: int | None = None
    log_level: str = "INFO"
    log_json: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only explicit values: `load_settings` reads the environment it is given, so tests
        # build settings from a dict and nothing leaks in from the process environment.
        return (init_settings,)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from `FIXAHEAD_*` keys of `environ` (default: os.environ) plus overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {
        key[len(PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(PREFIX) and key[len(PREFIX) :].lower() in Settings.model_fields
    }
    unknown = [
        key for key in env if key.startswith(PREFIX) and key[len(PREFIX) :].lower()
        not in Settings.model_fields and not key.startswith(PREFIX + "TEST_")
    ]
    if unknown:
        raise ValueError(f"unknown setting(s) in environment: {', '.join(sorted(unknown))}")
    values.update(overrides)
    return Settings(**values)
