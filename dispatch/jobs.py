"""Periodic dispatch jobs as plain functions, and an APScheduler 3 factory that runs them.

Each job takes a connection factory and a clock, so tests call them directly and the process
wiring decides where connections come from.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler

from dispatch import adapter, booking_store, outbox
from dispatch.availability_store import refresh_availability
from dispatch.email.render import EmailSettings
from dispatch.email.sender import Report, SmtpSettings, deliver_due

log = logging.getLogger(__name__)

Connect = Callable[[], AbstractContextManager[psycopg.Connection]]
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def expire_holds(connect: Connect, clock: Clock = _utc_now) -> int:
    """Release holds that expired unconfirmed."""
    with connect() as conn:
        return booking_store.expire_holds(conn, now=clock())


def _original_item(conn: psycopg.Connection, incident_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        """SELECT payload FROM email_outbox
           WHERE payload ->> 'incident_id' = %s
              OR payload -> 'items'
                 @> jsonb_build_array(jsonb_build_object('incident_id', %s::text))
           ORDER BY id LIMIT 1""", (incident_id, incident_id)).fetchone()
    if row is None:
        return None
    payload: dict[str, Any] = row[0]
    for item in payload.get("items", [payload]):
        if item.get("incident_id") == incident_id:
            return item
    return None


def send_reminders(connect: Connect, clock: Clock = _utc_now) -> int:
    """Queue a reminder for each booked visit starting within the next 24-48 hours, once."""
    now = clock()
    queued = 0
    with connect() as conn:
        visits = conn.execute(
            """SELECT id, incident_id, customer_id, starts_at, ends_at FROM visits
               WHERE state = 'booked' AND reminded_at IS NULL
                 AND starts_at > %s AND starts_at <= %s ORDER BY starts_at""",
            (now + timedelta(hours=12), now + timedelta(hours=36))).fetchall()
        for vid, incident_id, customer_id, start, end in visits:
            customer = adapter.load_customer(conn, customer_id=customer_id)
            item = _original_item(conn, incident_id)
            with conn.transaction():
                conn.execute("UPDATE visits SET reminded_at = %s WHERE id = %s", (now, vid))
                if customer is None or item is None or customer.unsubscribed:
                    continue
                payload = dict(item, kind="reminder", urgent=False, escalated=False,
                               visit=dict(item.get("visit") or {}, visit_id=vid,
                                          start=start.isoformat(), end=end.isoformat(),
                                          hold_expires_at=None))
                outbox.enqueue(conn, key=f"reminder:{vid}", kind="reminder",
                               customer_id=customer_id, to_addr=customer.email,
                               language=customer.language,
                               payload=json.loads(json.dumps(payload)), send_at=now)
                queued += 1
    return queued


def refresh_availability_job(connect: Connect, clock: Clock = _utc_now) -> int:
    """Recompute household availability from recent usage."""
    with connect() as conn:
        return refresh_availability(conn, now=clock())


def retry_outbox(connect: Connect, smtp: SmtpSettings, email: EmailSettings,
                 clock: Clock = _utc_now) -> Report:
    """Deliver due and retryable emails."""
    with connect() as conn:
        return deliver_due(conn, smtp, email, clock=clock)


def build_scheduler(connect: Connect, *, smtp: SmtpSettings, email: EmailSettings,
                    clock: Clock = _utc_now, outbox_every_s: float = 10,
                    holds_every_s: float = 60, reminders_every_s: float = 900,
                    availability_every_s: float = 6 * 3600) -> BackgroundScheduler:
    """A scheduler (not started) with the four dispatch jobs; one instance of each at a time."""
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    scheduler.add_job(retry_outbox, "interval", seconds=outbox_every_s, id="retry_outbox",
                      args=(connect, smtp, email, clock))
    scheduler.add_job(expire_holds, "interval", seconds=holds_every_s, id="expire_holds",
                      args=(connect, clock))
    scheduler.add_job(send_reminders, "interval", seconds=reminders_every_s,
                      id="send_reminders", args=(connect, clock))
    scheduler.add_job(refresh_availability_job, "interval", seconds=availability_every_s,
                      id="refresh_availability", args=(connect, clock))
    return scheduler
