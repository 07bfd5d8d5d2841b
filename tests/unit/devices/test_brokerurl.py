"""One broker-URL parser for ingest, the diagnostics link and the simulator."""

from __future__ import annotations

import ssl

import pytest

from devices.brokerurl import BrokerAddress, parse_broker_url
from devices.diagnostics_mqtt import DiagnosticsLink
from simulator.mqtt import parse_url as simulator_url


@pytest.mark.parametrize(("url", "address"), [
    ("mqtt://localhost", BrokerAddress("localhost", 1883)),
    ("mqtts://broker.example", BrokerAddress("broker.example", 8883, tls=True)),
    ("mqtt://u:p%40ss@10.0.0.2:1884", BrokerAddress("10.0.0.2", 1884, False, "u", "p@ss")),
    ("mqtts://platform:pw@broker.example:443",
     BrokerAddress("broker.example", 443, True, "platform", "pw")),
    ("tcp://h", BrokerAddress("h", 1883)),
    ("ssl://h", BrokerAddress("h", 8883, tls=True)),
])
def test_urls_give_host_port_tls_and_credentials(url: str, address: BrokerAddress) -> None:
    assert parse_broker_url(url) == address


@pytest.mark.parametrize(("url", "problem"), [
    ("http://x", "scheme must be mqtt:// or mqtts://"),
    ("localhost:1883", "scheme must be"),
    ("mqtt://", "host is missing"),
    ("mqtt://h:port", "port must be a number"),
    ("mqtt://h:70000", "port must be a number"),
    ("mqtt://h:0", "port must be a number"),
])
def test_bad_urls_are_refused_naming_the_problem(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"MQTT URL .*{problem}"):
        parse_broker_url(url)


def test_errors_do_not_repeat_the_password() -> None:
    with pytest.raises(ValueError) as err:
        parse_broker_url("http://u:s3cret@h")
    assert "s3cret" not in str(err.value)


def test_the_diagnostics_link_takes_a_tls_url() -> None:
    link = DiagnosticsLink.from_url(lambda: None, "mqtts://platform:pw@broker.example")  # type: ignore[arg-type, return-value]
    assert (link.mqtt["hostname"], link.mqtt["port"], link.mqtt["username"]) == (
        "broker.example", 8883, "platform")
    assert isinstance(link.mqtt["tls_context"], ssl.SSLContext)
    plain = DiagnosticsLink.from_url(lambda: None, "mqtt://h")  # type: ignore[arg-type, return-value]
    assert (plain.mqtt["port"], plain.mqtt["tls_context"]) == (1883, None)


def test_the_simulator_reads_the_same_urls_and_refuses_tls_clearly() -> None:
    assert simulator_url("mqtt://u:p@h:1884") == BrokerAddress("h", 1884, False, "u", "p")
    with pytest.raises(ValueError, match="no TLS in the simulator"):
        simulator_url("mqtts://h")
