"""Settings come from the mapping they are given, typed, with typos refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from devices.brokerurl import parse_broker_url
from fixahead.settings import load_settings


def test_settings_read_only_the_given_environment():
    s = load_settings({"FIXAHEAD_DATABASE_URL": "postgresql://x/y",
                       "FIXAHEAD_INGEST_BATCH_MAX_MESSAGES": "17", "HOME": "/ignored"})
    assert s.database_url == "postgresql://x/y"
    assert s.ingest_batch_max_messages == 17
    assert s.mqtt_url is None


def test_unknown_setting_is_an_error_naming_it():
    with pytest.raises(ValueError, match="FIXAHEAD_DATABSE_URL"):
        load_settings({"FIXAHEAD_DATABSE_URL": "postgresql://x/y"})


def test_badly_typed_setting_is_an_error():
    with pytest.raises(ValidationError, match="ingest_batch_max_messages"):
        load_settings({"FIXAHEAD_INGEST_BATCH_MAX_MESSAGES": "many"})


def test_mqtt_urls_parse_with_credentials_and_tls():
    a = parse_broker_url("mqtts://ingest:p%40ss@broker.example:8883")
    assert (a.host, a.port, a.tls, a.username, a.password) == (
        "broker.example", 8883, True, "ingest", "p@ss")
    assert parse_broker_url("mqtt://localhost").port == 1883


@pytest.mark.parametrize("url", ["http://x", "mqtt://", "localhost:1883"])
def test_bad_mqtt_urls_are_rejected(url):
    with pytest.raises(ValueError, match="MQTT URL"):
        parse_broker_url(url)
