"""A person's acknowledge, resolve or snooze of an incident, as a command (pure; no I/O).

People never write incidents: the web submits a command (`rules.commandstore.submit`) and the
rule worker holding the device applies it to its incident book with `apply`, so the book and
the table agree and the engine's next write cannot undo what the person did.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.incidents import IncidentBook, IncidentChange

COMMANDS = ("acknowledge", "resolve", "snooze")
TARGET = {"acknowledge": "acknowledged", "resolve": "resolved", "snooze": "snoozed"}
# the states a command may start from (a snooze mutes the fault whatever the state)
ALLOWED = {"acknowledge": ("open", "updated"),
           "resolve": ("open", "updated", "acknowledged"),
           "snooze": ("open", "updated", "acknowledged", "resolved", "auto_cleared")}
MIN_SNOOZE_H = 1 / 60
MAX_SNOOZE_H = 24 * 30


class Refused(Exception):
    """The command does not fit the incident's state (the message says why)."""


@dataclass(frozen=True)
class Command:
    """One command: `at_ms` is when the person gave it, `until_ms` the end of a snooze."""

    id: int
    key: str
    device: int
    fault: str
    command: str
    at_ms: int
    actor: str
    until_ms: int | None = None


def refusal(key: str, command: str, state: str) -> str | None:
    """Why `command` cannot apply to incident `key` in `state`, or None when it can."""
    if command not in COMMANDS:
        return f"unknown command {command!r} (one of {', '.join(COMMANDS)})"
    if state not in ALLOWED[command]:
        return f"incident {key} is {state}; it cannot become {TARGET[command]}"
    return None


def check_snooze(hours: float) -> None:
    """Refuse a snooze shorter than a minute or longer than 30 days."""
    if not MIN_SNOOZE_H <= hours <= MAX_SNOOZE_H:  # (5e-324 h used to pass: a 0 s mute)
        raise Refused("a snooze lasts between a minute and 30 days")


def apply(book: IncidentBook, cmd: Command) -> list[IncidentChange]:
    """Apply a command to the book; its changes (none for a snooze). Raises Refused when the
    incident is not open in the book or its state does not allow the command."""
    if cmd.command == "snooze":
        assert cmd.until_ms is not None
        book.snooze(cmd.device, cmd.until_ms, cmd.fault, from_ms=cmd.at_ms)
        return []
    inc = book.open.get((cmd.device, cmd.fault))
    if inc is None or inc.key != cmd.key:
        raise Refused(f"incident {cmd.key} is closed; it cannot become {TARGET[cmd.command]}")
    why = refusal(cmd.key, cmd.command, inc.state)
    if why is not None:
        raise Refused(why)
    if cmd.command == "acknowledge":
        return book.acknowledge(cmd.key, cmd.at_ms)
    return book.resolve(cmd.key, cmd.at_ms)
