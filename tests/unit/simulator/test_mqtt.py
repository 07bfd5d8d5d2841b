"""MQTT packets the simulator's publisher writes."""

from __future__ import annotations

import pytest

from simulator.mqtt import _str, connect_packet, parse_url, publish_packet


def test_publish_packet_is_qos1_with_topic_packet_id_and_payload() -> None:
    packet = publish_packet(_str("a/b"), b"xyz", 258)
    assert packet == b"\x32\x0a\x00\x03a/b\x01\x02xyz"


def test_remaining_length_uses_several_bytes_for_large_payloads() -> None:
    packet = publish_packet(_str("t"), b"\x00" * 200, 1)
    assert packet[:3] == b"\x32\xcd\x01"  # 205 = 0x4d | 0x80, then 1
    assert len(packet) == 3 + 205


def test_connect_packet_carries_credentials_and_a_retained_will() -> None:
    packet = connect_packet("dev-1", "dev-1", "s3cret", 60, ("p/dev-1/status", b"off", True))
    flags = packet[9]
    assert packet[2:8] == b"\x00\x04MQTT" and packet[8] == 4
    assert flags == 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02
    assert packet.endswith(b"\x00\x05dev-1\x00\x06s3cret")


def test_broker_urls_need_mqtt_scheme_and_host() -> None:
    url = parse_url("mqtt://u:p%40ss@localhost:1884")
    assert (url.host, url.port, url.username, url.password) == ("localhost", 1884, "u", "p@ss")
    with pytest.raises(ValueError, match="no TLS"):
        parse_url("mqtts://localhost")
