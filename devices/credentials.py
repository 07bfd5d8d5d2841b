"""Device secrets: generated once, stored only as a slow salted hash that Mosquitto verifies.

The hash is Mosquitto 2's own `$7$` format, PBKDF2-HMAC-SHA512:
`$7$<iterations>$<base64 of a 12-byte salt>$<base64 of the 64-byte derived key>` (standard
base64 with padding), as written by `mosquitto_passwd` and checked by the broker. Storing this
one hash lets us generate the broker's password file from the registry without ever keeping a
plaintext secret, and lets Python (the embedded broker, the API) verify the same hash.

Iterations: secrets are 192 random bits, so guessing one from a leaked hash is infeasible at any
iteration count; the count is defence in depth, priced against what it costs elsewhere: the
broker derives the key on every connect (on one thread), and bulk provisioning hashes every new
secret. See docs/devices.md for the figures behind the default. No I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

ITERATIONS = 1000
SALT_BYTES = 12  # what mosquitto_passwd uses
KEY_BYTES = 64  # SHA-512 output; Mosquitto compares exactly this many bytes


def new_secret() -> str:
    """A new random device secret (shown to the installer once): 192 bits, URL-safe."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class SecretHash:
    """A parsed `$7$` hash."""

    iterations: int
    salt: bytes
    key: bytes

    def __str__(self) -> str:
        b64 = base64.b64encode
        return f"$7${self.iterations}${b64(self.salt).decode()}${b64(self.key).decode()}"


def parse_hash(stored: str) -> SecretHash:
    """Split a `$7$` hash; ValueError saying what is wrong."""
    parts = stored.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7":
        raise ValueError("not a Mosquitto $7$ (PBKDF2-SHA512) hash")
    if not parts[2].isdigit() or int(parts[2]) < 1:
        raise ValueError("iteration count must be a positive integer")
    try:
        salt = base64.b64decode(parts[3], validate=True)
        key = base64.b64decode(parts[4], validate=True)
    except ValueError:
        raise ValueError("salt and key must be base64") from None
    if len(key) != KEY_BYTES or not salt:
        raise ValueError(f"key must be {KEY_BYTES} bytes and the salt non-empty")
    return SecretHash(int(parts[2]), salt, key)


def hash_secret(secret: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """The `$7$` hash of `secret`, with a fresh random salt unless one is given."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations, KEY_BYTES)
    return str(SecretHash(iterations, salt, key))


def verify_secret(secret: str, stored: str | None) -> bool:
    """Whether `secret` matches a stored `$7$` hash (False for anything malformed)."""
    if not stored:
        return False
    try:
        parsed = parse_hash(stored)
    except ValueError:
        return False
    got = hashlib.pbkdf2_hmac("sha512", secret.encode(), parsed.salt, parsed.iterations,
                              KEY_BYTES)
    return hmac.compare_digest(got, parsed.key)


def needs_rehash(stored: str, *, iterations: int = ITERATIONS) -> bool:
    """Whether a stored hash is weaker than the current iteration count (rotate to upgrade)."""
    try:
        return parse_hash(stored).iterations < iterations
    except ValueError:
        return True
