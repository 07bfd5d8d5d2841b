from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.links import LinkError, parse_pick, pick_subject, sign, verify

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_a_signed_link_verifies_until_it_expires() -> None:
    token = sign(b"k", "confirm", "42", NOW + timedelta(hours=1))
    claim = verify(b"k", token, now=NOW)
    assert (claim.action, claim.subject) == ("confirm", "42")
    with pytest.raises(LinkError) as err:
        verify(b"k", token, now=NOW + timedelta(hours=1))
    assert err.value.reason == "expired"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: "x" + t,
    lambda t: t.replace(".", ""),
    lambda t: "",
])
def test_tampered_or_malformed_links_are_refused(mangle: object) -> None:
    token = sign(b"k", "cancel", "42", NOW + timedelta(hours=1))
    with pytest.raises(LinkError):
        verify(b"k", mangle(token), now=NOW)  # type: ignore[operator]


def test_a_link_signed_with_another_secret_is_forged() -> None:
    token = sign(b"other", "cancel", "42", NOW + timedelta(hours=1))
    with pytest.raises(LinkError) as err:
        verify(b"k", token, now=NOW)
    assert err.value.reason == "forged"


def test_tokens_are_deterministic() -> None:
    exp = NOW + timedelta(days=1)
    assert sign(b"k", "fixed", "inc-1", exp) == sign(b"k", "fixed", "inc-1", exp)


def _spellings(token: str) -> list[str]:
    """Other spellings of the same bytes: padding, unused low bits, the standard alphabet."""
    body, mac = token.split(".")
    out = [f"{body}.{mac}=", f"{body}=.{mac}", f"{body}.{mac}==", f" {token}", f"{token}\n"]
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    i = last.index(mac[-1])
    for bit in (1, 2, 3):  # a 32-byte MAC leaves 2 unused bits in its last character
        flipped = last[i ^ bit]
        out.append(f"{body}.{mac[:-1]}{flipped}")
    out.append(token.replace("-", "+").replace("_", "/"))
    return [s for s in out if s != token]


def test_a_token_has_exactly_one_valid_spelling() -> None:
    token = sign(b"k", "choose", "inc-1", NOW + timedelta(hours=1))
    assert verify(b"k", token, now=NOW).key
    for other in _spellings(token):
        with pytest.raises(LinkError):
            verify(b"k", other, now=NOW)


def test_a_truncated_signature_is_refused_even_if_its_prefix_matches() -> None:
    token = sign(b"k", "cancel", "42", NOW + timedelta(hours=1))
    body, mac = token.split(".")
    with pytest.raises(LinkError) as err:
        verify(b"k", f"{body}.{mac[:22]}", now=NOW)
    assert err.value.reason == "malformed"


def test_the_use_key_is_the_decoded_token_and_differs_per_link() -> None:
    exp = NOW + timedelta(days=1)
    a = verify(b"k", sign(b"k", "fixed", "inc-1", exp), now=NOW)
    b = verify(b"k", sign(b"k", "broken", "inc-1", exp), now=NOW)
    assert a.key == verify(b"k", sign(b"k", "fixed", "inc-1", exp), now=NOW).key
    assert a.key != b.key and len(a.key) == 64


def test_a_pick_link_names_the_offered_slot() -> None:
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    subject = pick_subject("inc|odd-1", 7, start)
    assert parse_pick(subject) == ("inc|odd-1", 7, start)
    assert parse_pick("inc-1") is None and parse_pick("inc-1|x|3") is None
