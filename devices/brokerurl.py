"""The one MQTT broker-URL parser: `mqtt://user:pass@host:port`, and `mqtts://` for TLS.

Ingest, the diagnostics link and the simulator all read their broker from this; the port
defaults to 1883 (mqtt://) or 8883 (mqtts://), user and password are percent-decoded. `tcp://`
and `ssl://` (paho's spellings) are accepted as mqtt:// and mqtts://.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

PLAIN_PORT = 1883
TLS_PORT = 8883
_SCHEMES = {"mqtt": False, "tcp": False, "mqtts": True, "ssl": True}


@dataclass(frozen=True)
class BrokerAddress:
    """Where and as whom to connect to an MQTT broker."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> BrokerAddress:
    """Parse an MQTT URL; raise ValueError naming the URL and the problem (the password is
    not repeated in the message)."""
    parts = urlsplit(url)
    shown = _redacted(url, parts.password)
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"MQTT URL {shown!r}: scheme must be mqtt:// or mqtts:// (TLS), "
                         "as in mqtt://user:password@host:1883")
    if not parts.hostname:
        raise ValueError(f"MQTT URL {shown!r}: host is missing")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"MQTT URL {shown!r}: port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError(f"MQTT URL {shown!r}: port must be a number from 1 to 65535")
    tls = _SCHEMES[parts.scheme]
    return BrokerAddress(
        host=parts.hostname,
        port=port or (TLS_PORT if tls else PLAIN_PORT),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _redacted(url: str, password: str | None) -> str:
    return url.replace(f":{password}@", ":***@", 1) if password else url
