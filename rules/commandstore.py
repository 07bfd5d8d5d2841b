"""PostgreSQL adapter for people's incident commands: submit, take, settle.

`submit` is what the web calls. When a rule worker holds a live lease, the command is queued
in `incident_commands` and the worker holding the device applies it to its book and writes
the incident (the one writer); `submit` waits a little for that. When no worker holds a
lease, no book exists to disagree, so the command is applied to the table at once; the share
lock on `rule_partitions` makes a worker that takes a partition over meanwhile wait for it,
and then load the incident as the person left it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg

from devices.audit import audit
from rules.commands import TARGET, Command, Refused, check_snooze, refusal

NOTIFY_CHANNEL = "incident_commands"


def _ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _audit(conn: psycopg.Connection, cmd: Command) -> None:
    detail = None
    if cmd.command == "snooze" and cmd.until_ms is not None:
        detail = {"until": _dt(cmd.until_ms).isoformat()}
    audit(conn, actor=cmd.actor, action=f"incident.{TARGET[cmd.command]}"
          if cmd.command != "snooze" else "incident.snooze",
          subject_type="incident", subject_id=cmd.key, detail=detail)


def _apply_to_table(conn: psycopg.Connection, cmd: Command) -> None:
    """The command applied to the stored incident (no worker holds a book for it)."""
    if cmd.command == "snooze":
        save_mute(conn, cmd)
        return
    closed = cmd.command == "resolve"
    at = _dt(cmd.at_ms)
    row = conn.execute(
        """UPDATE incidents SET state = %s, updated_at = %s, version = version + 1,
                  closed_at = CASE WHEN %s THEN %s ELSE closed_at END
           WHERE key = %s RETURNING version""",
        (TARGET[cmd.command], at, closed, at, cmd.key)).fetchone()
    assert row is not None
    conn.execute("INSERT INTO incident_changes (key, version, change, at) "
                 "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                 (cmd.key, row[0], TARGET[cmd.command], at))


def save_mute(conn: psycopg.Connection, cmd: Command) -> None:
    """Store a snooze as a mute of the incident's fault on its device."""
    assert cmd.until_ms is not None
    conn.execute("INSERT INTO incident_mutes (device, fault, starts_at, ends_at, reason) "
                 "VALUES (%s, %s, %s, %s, 'snooze')",
                 (cmd.device, cmd.fault, _dt(cmd.at_ms), _dt(cmd.until_ms)))


def submit(conn: psycopg.Connection, key: str, command: str, *, now: datetime, actor: str,
           hours: float | None = None, wait_s: float = 10.0) -> str:
    """Ask for `command` on incident `key`: "applied" once done, "pending" when a rule worker
    holds a lease but has not applied it within `wait_s` (it will). Raises Refused when the
    incident does not exist or its state does not allow the command."""
    until = None
    if command == "snooze":
        check_snooze(hours if hours is not None else 0.0)
        until = now + timedelta(hours=hours or 0.0)
    with conn.transaction():
        conn.execute("LOCK TABLE rule_partitions IN SHARE MODE")
        row = conn.execute("SELECT device, fault, state FROM incidents WHERE key = %s "
                           "FOR UPDATE", (key,)).fetchone()
        if row is None:
            raise Refused(f"there is no incident {key!r}")
        why = refusal(key, command, row[2])
        if why is not None:
            raise Refused(why)
        live = conn.execute("SELECT 1 FROM rule_partitions WHERE lease_until > now() "
                            "LIMIT 1").fetchone() is not None
        state = "pending" if live else "applied"
        cid = conn.execute(
            """INSERT INTO incident_commands (key, device, fault, command, at, until, actor,
                                              state, applied_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s,
                       CASE WHEN %s = 'applied' THEN now() END) RETURNING id""",
            (key, row[0], row[1], command, now, until, actor, state, state)).fetchone()
        assert cid is not None
        cmd = Command(id=cid[0], key=key, device=row[0], fault=row[1], command=command,
                      at_ms=_ms(now), actor=actor,
                      until_ms=None if until is None else _ms(until))
        if not live:
            _apply_to_table(conn, cmd)
            _audit(conn, cmd)
            return "applied"
        conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    return _wait(conn, cmd.id, wait_s)


def _wait(conn: psycopg.Connection, cid: int, wait_s: float) -> str:
    deadline = time.monotonic() + wait_s
    delay = 0.005
    while True:
        row = conn.execute("SELECT state, reason FROM incident_commands WHERE id = %s",
                           (cid,)).fetchone()
        assert row is not None
        if row[0] == "refused":
            raise Refused(row[1])
        if row[0] == "applied":
            return "applied"
        if time.monotonic() >= deadline:
            return "pending"
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def pending(conn: psycopg.Connection, partitions: int, held: Sequence[int]) -> list[Command]:
    """Commands not yet applied for devices of the held partitions (device % partitions),
    oldest first."""
    if not held:
        return []
    rows = conn.execute(
        """SELECT id, key, device, fault, command, at, until, actor FROM incident_commands
           WHERE state = 'pending' AND device %% %s = ANY(%s) ORDER BY id""",
        (partitions, list(held))).fetchall()
    return [Command(id=r[0], key=r[1], device=r[2], fault=r[3], command=r[4], at_ms=_ms(r[5]),
                    actor=r[7], until_ms=None if r[6] is None else _ms(r[6])) for r in rows]


def settle(conn: psycopg.Connection, cmd: Command, refused: str | None = None) -> None:
    """Mark a command applied (audited, a snooze stored) or refused, in the caller's
    transaction."""
    if refused is not None:
        conn.execute("UPDATE incident_commands SET state = 'refused', reason = %s, "
                     "applied_at = now() WHERE id = %s", (refused, cmd.id))
        return
    if cmd.command == "snooze":
        save_mute(conn, cmd)
    _audit(conn, cmd)
    conn.execute("UPDATE incident_commands SET state = 'applied', applied_at = now() "
                 "WHERE id = %s", (cmd.id,))


def incident_state(conn: psycopg.Connection, key: str) -> str | None:
    """The stored state of an incident (None when there is none)."""
    row = conn.execute("SELECT state FROM incidents WHERE key = %s", (key,)).fetchone()
    return None if row is None else str(row[0])
