"""Dead letters in PostgreSQL: what operators query (by reason, device, time), and retention.

These are ingest's public read functions for the table it writes; the web page and API are
built on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

PREVIEW_BYTES = 256


@dataclass(frozen=True)
class StoredDeadLetter:
    """One stored dead letter, its payload as kept (a capped prefix) and the size it had."""

    id: int
    received_at: datetime
    topic: str
    device_id: str | None
    reason: str
    detail: str
    payload: bytes
    payload_bytes: int

    @property
    def truncated(self) -> bool:
        """Whether only a prefix of the payload was kept."""
        return self.payload_bytes > len(self.payload)

    def preview(self, limit: int = PREVIEW_BYTES) -> str:
        """The payload's first bytes as text, undecodable bytes and controls escaped."""
        text = self.payload[:limit].decode("utf-8", errors="backslashreplace")
        text = "".join(c if c.isprintable() or c == " " else f"\\x{ord(c):02x}" for c in text)
        return text + ("…" if self.payload_bytes > limit else "")


_COLUMNS = ("id, received_at, topic, device_id, reason, detail, payload, "
            "coalesce(payload_bytes, octet_length(payload))")


def _where(reason: str | None, device_id: str | None, since: datetime | None,
           until: datetime | None) -> tuple[str, list[object]]:
    clauses, args = [], []
    for column, op, value in (("reason", "=", reason), ("device_id", "=", device_id),
                              ("received_at", ">=", since), ("received_at", "<", until)):
        if value is not None:
            clauses.append(f"{column} {op} %s")
            args.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def list_dead_letters(conn: psycopg.Connection, *, reason: str | None = None,
                      device_id: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, before_id: int | None = None,
                      limit: int = 100) -> list[StoredDeadLetter]:
    """Dead letters matching the filters, newest first; page with `before_id`."""
    where, args = _where(reason, device_id, since, until)
    if before_id is not None:
        where += (" AND " if where else " WHERE ") + "id < %s"
        args.append(before_id)
    rows = conn.execute(f"SELECT {_COLUMNS} FROM dead_letters{where} ORDER BY id DESC LIMIT %s",
                        [*args, max(1, min(limit, 1000))]).fetchall()
    return [StoredDeadLetter(*r[:6], bytes(r[6]), r[7]) for r in rows]


def get_dead_letter(conn: psycopg.Connection, letter_id: int) -> StoredDeadLetter | None:
    """One dead letter by id, or None."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = %s",
                       (letter_id,)).fetchone()
    return None if row is None else StoredDeadLetter(*row[:6], bytes(row[6]), row[7])


def count_dead_letters(conn: psycopg.Connection, *, device_id: str | None = None,
                       since: datetime | None = None,
                       until: datetime | None = None) -> dict[str, int]:
    """How many dead letters per reason match the filters."""
    where, args = _where(None, device_id, since, until)
    rows = conn.execute(f"SELECT reason, count(*) FROM dead_letters{where} GROUP BY reason "
                        "ORDER BY count(*) DESC, reason", args).fetchall()
    return {reason: n for reason, n in rows}


def prune_dead_letters(conn: psycopg.Connection, *, older_than_s: float) -> int:
    """Delete dead letters older than the retention; how many were deleted."""
    cur = conn.execute("DELETE FROM dead_letters WHERE received_at < now() - "
                       "make_interval(secs => %s)", (older_than_s,))
    return cur.rowcount
