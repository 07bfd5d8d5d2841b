"""The audit log adapter: who did what to which subject (ids only, never personal data)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def audit(conn: psycopg.Connection, *, actor: str, action: str, subject_type: str,
          subject_id: str, detail: dict[str, Any] | None = None) -> None:
    """Append one audit record (in the caller's transaction)."""
    conn.execute(
        """INSERT INTO audit_log (actor, action, subject_type, subject_id, detail)
           VALUES (%s, %s, %s, %s, %s)""",
        (actor, action, subject_type, subject_id, Jsonb(detail or {})),
    )


def audit_trail(conn: psycopg.Connection, subject_type: str, subject_id: str) -> list[dict]:
    """The audit records of one subject, oldest first."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            """SELECT id, at, actor, action, subject_type, subject_id, detail FROM audit_log
               WHERE subject_type = %s AND subject_id = %s ORDER BY id""",
            (subject_type, subject_id),
        ).fetchall()
