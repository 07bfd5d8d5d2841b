"""Signed, expiring links for customers: confirm, choose or pick another slot, cancel, fixed,
still broken, unsubscribe.

A token is `base64url(json{a, s, e}) . base64url(HMAC-SHA256)`: the action, its subject (a visit,
incident or customer id, or an offered slot) and the expiry in epoch seconds. Each token has
exactly one valid spelling: canonical base64url without padding, the full 32-byte signature
(compared in constant time), the body exactly as `sign` writes it. Tokens are deterministic, so
a resent email carries the same links. That a token was used is recorded by the store, keyed by
`Claim.key`, a digest of the decoded body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

ACTIONS = ("confirm", "choose", "pick", "cancel", "fixed", "broken", "unsubscribe")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_MAC_BYTES = 32
_MAX_TOKEN = 1024


class LinkError(ValueError):
    """A token that is malformed, forged, or expired (`reason` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claim:
    """What a valid token allows; `key` identifies the token for recording its use."""

    action: str
    subject: str
    expires_at: datetime
    key: str = ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Decode canonical unpadded base64url only: every other spelling is malformed."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # unused low bits set: a second spelling of the same bytes
        raise ValueError("not canonical")
    return data


def _body(action: str, subject: str, expires_s: int) -> bytes:
    return json.dumps({"a": action, "s": subject, "e": expires_s},
                      separators=(",", ":"), sort_keys=True).encode()


def sign(secret: bytes, action: str, subject: str, expires_at: datetime) -> str:
    """A token for `action` on `subject`, valid until `expires_at`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown link action {action!r}")
    if not secret:
        raise ValueError("the link secret must not be empty")
    body = _body(action, subject, int(expires_at.timestamp()))
    mac = hmac.new(secret, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify(secret: bytes, token: str, *, now: datetime) -> Claim:
    """The claim of a genuine, unexpired token; LinkError('malformed'|'forged'|'expired')."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN or token.count(".") != 1:
        raise LinkError("malformed")
    body_text, mac_text = token.split(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, binascii.Error):
        raise LinkError("malformed") from None
    if len(mac) != _MAC_BYTES:
        raise LinkError("malformed")
    if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()):
        raise LinkError("forged")
    try:
        doc = json.loads(body)
        action, subject, expires_s = doc["a"], doc["s"], doc["e"]
    except (ValueError, KeyError, TypeError):
        raise LinkError("malformed") from None
    if (not isinstance(action, str) or not isinstance(subject, str)
            or not isinstance(expires_s, int) or isinstance(expires_s, bool)
            or action not in ACTIONS or body != _body(action, subject, expires_s)):
        raise LinkError("malformed")
    claim = Claim(action, subject, datetime.fromtimestamp(expires_s, UTC),
                  hashlib.sha256(body).hexdigest())
    if claim.expires_at <= now:
        raise LinkError("expired")
    return claim


def pick_subject(incident_id: str, technician_id: int, start: datetime) -> str:
    """The subject of a one-click link to one offered slot: incident, technician, start."""
    return f"{incident_id}|{technician_id}|{int(start.timestamp())}"


def parse_pick(subject: str) -> tuple[str, int, datetime] | None:
    """(incident id, technician id, start) of a pick link's subject, None if it is not one."""
    incident_id, _, rest = subject.rpartition("|")
    incident_id, _, tech = incident_id.rpartition("|")
    if not incident_id or not tech.isdigit() or not rest.isdigit():
        return None
    return incident_id, int(tech), datetime.fromtimestamp(int(rest), UTC)
