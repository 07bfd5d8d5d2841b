"""Signed cookie values (pure): `value.signature`, HMAC-SHA256 under the app's secret."""

from __future__ import annotations

import base64
import hashlib
import hmac

SESSION_COOKIE = "fixahead_session"


def _mac(secret: bytes, value: str) -> str:
    digest = hmac.new(secret, b"session:" + value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: bytes, value: str) -> str:
    """`value` with its signature appended."""
    return f"{value}.{_mac(secret, value)}"


def unsign(secret: bytes, signed: str) -> str | None:
    """The value of a signed cookie, or None when the signature does not match."""
    value, _, mac = signed.rpartition(".")
    if not value or not hmac.compare_digest(mac, _mac(secret, value)):
        return None
    return value
