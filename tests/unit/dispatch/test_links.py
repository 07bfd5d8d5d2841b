from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.links import LinkError, sign, verify

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
