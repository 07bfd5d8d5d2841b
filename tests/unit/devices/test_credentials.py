"""Device secret hashes in Mosquitto's $7$ PBKDF2-SHA512 format."""

from __future__ import annotations

import base64
import hashlib

import pytest

from devices.credentials import (
    ITERATIONS,
    hash_secret,
    needs_rehash,
    new_secret,
    parse_hash,
    verify_secret,
)

# written by Debian's `mosquitto_passwd -b pw alice s3cret` (Mosquitto 2.0.11)
MOSQUITTO_LINE = ("$7$101$ZzMi7HpvuX6Tu2O/$/fFRTt7YP49ZZ6P76kp6mS/i4FPDNtI7M9awyP6W8DXFoCloVJbea"
                  "JcMuOYSpw5nAoCYbhH8E+ZdFp5uRNPQsg==")


def test_a_hash_written_by_mosquitto_passwd_verifies_in_python() -> None:
    assert verify_secret("s3cret", MOSQUITTO_LINE)
    assert not verify_secret("s3cret!", MOSQUITTO_LINE)


def test_our_hash_has_mosquittos_layout() -> None:
    stored = hash_secret("pw", iterations=1000, salt=b"0123456789ab")
    _, seven, iterations, salt, key = stored.split("$")
    assert (seven, iterations) == ("7", "1000")
    assert base64.b64decode(salt) == b"0123456789ab"
    assert base64.b64decode(key) == hashlib.pbkdf2_hmac("sha512", b"pw", b"0123456789ab",
                                                        1000, 64)


def test_a_new_secret_verifies_against_its_hash_and_nothing_else() -> None:
    secret = new_secret()
    stored = hash_secret(secret)
    assert verify_secret(secret, stored)
    assert not verify_secret(new_secret(), stored)
    assert parse_hash(stored).iterations == ITERATIONS
    assert hash_secret(secret) != stored  # fresh salt every time


@pytest.mark.parametrize("stored", [
    None, "", "scrypt$1$2$3$4$5", "$7$x$AAAA$AAAA", "$7$10$!!!$AAAA", "$7$10$AAAA$AAAA",
    "$6$rounds=5000$abc$def",
])
def test_malformed_hashes_never_verify(stored: str | None) -> None:
    assert not verify_secret("anything", stored)


def test_weaker_hashes_ask_to_be_rotated() -> None:
    assert needs_rehash(MOSQUITTO_LINE)
    assert not needs_rehash(hash_secret("x"))
    assert needs_rehash("garbage")


def test_secrets_are_long_and_url_safe() -> None:
    secret = new_secret()
    assert len(secret) == 32 and secret.replace("-", "").replace("_", "").isalnum()
