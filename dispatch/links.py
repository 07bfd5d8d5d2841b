"""Signed, expiring links for customers: confirm, choose another slot, cancel, fixed, unsubscribe.

A token is `base64url(json{a, s, e}) . base64url(HMAC-SHA256)`: the action, its subject (a visit,
incident or customer id) and the expiry in epoch seconds. Tokens are deterministic, so a resent
email carries the same links. That a token was used is recorded by the store, not in the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

ACTIONS = ("confirm", "choose", "cancel", "fixed", "unsubscribe")


class LinkError(ValueError):
    """A token that is malformed, forged, or expired (`reason` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claim:
    """What a valid token allows."""

    action: str
    subject: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, action: str, subject: str, expires_at: datetime) -> str:
    """A token for `action` on `subject`, valid until `expires_at`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown link action {action!r}")
    if not secret:
        raise ValueError("the link secret must not be empty")
    body = json.dumps({"a": action, "s": subject, "e": int(expires_at.timestamp())},
                      separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(secret, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify(secret: bytes, token: str, *, now: datetime) -> Claim:
    """The claim of a genuine, unexpired token; LinkError('malformed'|'forged'|'expired')."""
    try:
        body_text, mac_text = token.split(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, TypeError):
        raise LinkError("malformed") from None
    if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()):
        raise LinkError("forged")
    try:
        doc = json.loads(body)
        claim = Claim(str(doc["a"]), str(doc["s"]), datetime.fromtimestamp(int(doc["e"]), UTC))
    except (ValueError, KeyError, TypeError):
        raise LinkError("malformed") from None
    if claim.action not in ACTIONS:
        raise LinkError("malformed")
    if claim.expires_at <= now:
        raise LinkError("expired")
    return claim


def token_hash(token: str) -> str:
    """The key a used token is recorded under (the token itself is not stored)."""
    return hashlib.sha256(token.encode()).hexdigest()
