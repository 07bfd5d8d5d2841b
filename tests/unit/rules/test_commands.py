"""People's commands applied to an incident book (pure)."""

from __future__ import annotations

import pytest

from rules.commands import Command, Refused, apply, check_snooze, refusal
from rules.incidents import IncidentBook, Signal


def _book_with_one() -> tuple[IncidentBook, str]:
    book = IncidentBook()
    [change] = book.apply(Signal(device=1, fault="E90", source="code:E90", on=True, ts_ms=1000,
                                 kind="error", momentary=True))
    return book, change.incident.key


def _cmd(key: str, command: str, at_ms: int = 2000, until_ms: int | None = None) -> Command:
    return Command(id=1, key=key, device=1, fault="E90", command=command, at_ms=at_ms,
                   actor="user:1:a@b", until_ms=until_ms)


def test_an_acknowledged_incident_stays_acknowledged_when_evidence_updates_it() -> None:
    book, key = _book_with_one()
    [ack] = apply(book, _cmd(key, "acknowledge"))
    assert ack.change == "acknowledged" and ack.incident.version == 2
    [upd] = book.apply(Signal(device=1, fault="E90", source="code:E90", on=True, ts_ms=3000,
                              kind="error", momentary=True))
    assert upd.incident.state == "acknowledged" and upd.incident.version == 3


def test_after_a_resolve_new_evidence_opens_a_new_incident() -> None:
    book, key = _book_with_one()
    [res] = apply(book, _cmd(key, "resolve"))
    assert res.incident.state == "resolved" and res.incident.closed_ms == 2000
    [new] = book.apply(Signal(device=1, fault="E90", source="code:E90", on=True, ts_ms=3000,
                              kind="error", momentary=True))
    assert new.change == "opened" and new.incident.key != key


def test_a_command_that_does_not_fit_the_state_is_refused_with_the_reason() -> None:
    book, key = _book_with_one()
    apply(book, _cmd(key, "acknowledge"))
    with pytest.raises(Refused, match="is acknowledged; it cannot become acknowledged"):
        apply(book, _cmd(key, "acknowledge"))
    apply(book, _cmd(key, "resolve"))
    with pytest.raises(Refused, match="is closed"):
        apply(book, _cmd(key, "resolve"))
    assert refusal("k", "explode", "open") is not None
    with pytest.raises(Refused, match="between a minute and 30 days"):
        check_snooze(24 * 31)


def test_a_snooze_mutes_the_fault_from_when_it_was_given() -> None:
    book, key = _book_with_one()
    assert apply(book, _cmd(key, "snooze", at_ms=2000, until_ms=10_000)) == []
    assert book.muted(1, "E90", 5000) and not book.muted(1, "E90", 10_000)
    assert not book.muted(1, "E21", 5000)
