"""PostgreSQL adapter for decisions and the email outbox.

`record` runs inside the caller's transaction, so a decision, its held visit and its email
commit together or not at all. The sender claims due rows with a lease (SKIP LOCKED), so
several senders share the work and a crashed sender's rows are retried after the lease.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from dispatch.policy import Decision, Delivery

BUDGET_KINDS = ("self_help", "visit", "urgent", "digest")


@dataclass(frozen=True)
class OutboxRow:
    """An email waiting to be (or being) sent."""

    id: int
    idempotency_key: str
    kind: str
    customer_id: str
    to_addr: str
    language: str
    payload: dict[str, Any]
    send_at: datetime
    attempts: int
    created_at: datetime


_ROW = ("id, idempotency_key, kind, customer_id, to_addr, language, payload, send_at, "
        "attempts, created_at")


def _row(r: tuple) -> OutboxRow:  # type: ignore[type-arg]
    return OutboxRow(*r)


def emails_by_day(conn: psycopg.Connection, customer_id: str, tz: str, *,
                  around: datetime) -> dict[date, int]:
    """Budgeted emails sent or scheduled per local day of the customer, near `around`."""
    rows = conn.execute(
        """SELECT send_at FROM email_outbox WHERE customer_id = %s AND kind = ANY (%s)
             AND state <> 'cancelled' AND send_at BETWEEN %s AND %s""",
        (customer_id, list(BUDGET_KINDS), around - timedelta(days=2),
         around + timedelta(days=3))).fetchall()
    zone = ZoneInfo(tz)
    return dict(Counter(r[0].astimezone(zone).date() for r in rows))


def insert_decision(conn: psycopg.Connection, d: Decision, *, device_id: str = "",
                    fault_code: str = "", at: datetime | None = None) -> int | None:
    """Record a decision; None when one with the same key exists (a duplicate episode)."""
    row = conn.execute(
        """INSERT INTO dispatch_decisions (idempotency_key, incident_id, customer_id, action,
                                           delivery, send_at, urgent, escalated, reason,
                                           device_id, fault_code, decided_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()))
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING id""",
        (d.idempotency_key, d.incident_id, d.customer_id, d.action.value, d.delivery.value,
         d.send_at, d.urgent, d.escalated, d.reason, device_id, fault_code, at)).fetchone()
    return None if row is None else int(row[0])


@dataclass(frozen=True)
class SelfHelpHistory:
    """Earlier self-help for this device and fault: this episode's, and other episodes'."""

    same_incident_at: datetime | None
    other_incident: bool
    said_fixed: bool


def self_help_history(conn: psycopg.Connection, *, incident_id: str, device_id: str,
                      fault_code: str, since: datetime) -> SelfHelpHistory:
    """What self-help this device already got for this fault since `since`."""
    rows = conn.execute(
        """SELECT d.incident_id, d.decided_at,
                  EXISTS (SELECT 1 FROM customer_feedback f WHERE f.incident_id = d.incident_id
                          AND f.kind = 'fixed')
           FROM dispatch_decisions d
           WHERE d.device_id = %s AND d.fault_code = %s AND d.action = 'self_help'
             AND d.decided_at >= %s""", (device_id, fault_code, since)).fetchall()
    same = [r[1] for r in rows if r[0] == incident_id]
    return SelfHelpHistory(same_incident_at=min(same) if same else None,
                           other_incident=any(r[0] != incident_id for r in rows),
                           said_fixed=any(r[2] for r in rows))


def link_decision(conn: psycopg.Connection, decision_id: int, *, visit_id: int | None,
                  outbox_id: int | None) -> None:
    """Attach the held visit and the email to a decision."""
    conn.execute("UPDATE dispatch_decisions SET visit_id = %s, outbox_id = %s WHERE id = %s",
                 (visit_id, outbox_id, decision_id))


def enqueue(conn: psycopg.Connection, *, key: str, kind: str, customer_id: str, to_addr: str,
            language: str, payload: dict[str, Any], send_at: datetime) -> int:
    """Queue one email (idempotent by key); return its outbox id."""
    row = conn.execute(
        """INSERT INTO email_outbox (idempotency_key, kind, customer_id, to_addr, language,
                                     payload, send_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
           RETURNING id""",
        (key, kind, customer_id, to_addr, language, json.dumps(payload), send_at)).fetchone()
    assert row is not None
    return int(row[0])


def add_to_digest(conn: psycopg.Connection, *, decision: Decision, customer_id: str,
                  to_addr: str, language: str, item: dict[str, Any]) -> int:
    """Append an item to the customer's open digest for the day (creating it); its id."""
    assert decision.delivery is Delivery.DIGEST and decision.send_at is not None
    digest_key = f"{customer_id}:{decision.digest_day}"
    row = conn.execute(
        """INSERT INTO email_outbox (idempotency_key, kind, customer_id, to_addr, language,
                                     payload, send_at, digest_key)
           VALUES (%s, 'digest', %s, %s, %s, %s, %s, %s)
           ON CONFLICT (digest_key) WHERE state = 'pending' AND digest_key IS NOT NULL
           DO UPDATE SET payload = jsonb_set(email_outbox.payload, '{items}',
                                             (email_outbox.payload -> 'items') || %s::jsonb)
           RETURNING id""",
        (f"digest:{digest_key}:{decision.idempotency_key}", customer_id, to_addr, language,
         json.dumps({"items": [item]}), decision.send_at, digest_key,
         json.dumps([item]))).fetchone()
    assert row is not None
    return int(row[0])


def claim_due(conn: psycopg.Connection, *, now: datetime, lease_s: float,
              limit: int = 20) -> list[OutboxRow]:
    """Lease due rows (pending and due, or sending with a lapsed lease) and commit the lease."""
    with conn.transaction():
        rows = conn.execute(
            f"""UPDATE email_outbox SET state = 'sending', attempts = attempts + 1,
                       lease_until = %(lease)s
                WHERE id IN (
                    SELECT id FROM email_outbox
                    WHERE send_at <= %(now)s AND (
                        (state = 'pending' AND (lease_until IS NULL OR lease_until <= %(now)s))
                        OR (state = 'sending' AND lease_until <= %(now)s))
                    ORDER BY send_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
                RETURNING {_ROW}""",
            {"now": now, "lease": now + timedelta(seconds=lease_s), "limit": limit}).fetchall()
    return sorted((_row(r) for r in rows), key=lambda r: (r.send_at, r.id))


def mark_sent(conn: psycopg.Connection, outbox_id: int, *, message_id: str,
              now: datetime) -> None:
    """The SMTP server accepted the email."""
    conn.execute(
        """UPDATE email_outbox SET state = 'sent', sent_at = %s, message_id = %s,
                  lease_until = NULL, last_error = NULL WHERE id = %s""",
        (now, message_id, outbox_id))


def mark_retry(conn: psycopg.Connection, outbox_id: int, *, error: str,
               retry_at: datetime) -> None:
    """A transient failure: try again at `retry_at`."""
    conn.execute(
        """UPDATE email_outbox SET state = 'pending', lease_until = %s, last_error = %s
           WHERE id = %s AND state = 'sending'""", (retry_at, error[:2000], outbox_id))


def mark_failed(conn: psycopg.Connection, outbox_id: int, *, error: str) -> None:
    """A permanent failure, kept with its reason for the board."""
    conn.execute(
        """UPDATE email_outbox SET state = 'failed', lease_until = NULL, last_error = %s
           WHERE id = %s""", (error[:2000], outbox_id))


def failed_emails(conn: psycopg.Connection, *, limit: int = 100) -> list[tuple[int, str, str]]:
    """(id, recipient, reason) of permanently failed emails, newest first."""
    rows = conn.execute(
        """SELECT id, to_addr, coalesce(last_error, '') FROM email_outbox WHERE state = 'failed'
           ORDER BY id DESC LIMIT %s""", (limit,)).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]
