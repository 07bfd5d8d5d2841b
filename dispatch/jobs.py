"""Periodic dispatch jobs as plain functions, and an APScheduler 3 factory that runs them.

Each job takes a connection factory and a clock (and the availability refresh dispatch's
ports), so tests call them directly and the process wiring decides where connections come from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler

from dispatch import adapter, appointments, outbox
from dispatch.availability_store import refresh_availability
from dispatch.email.render import EmailSettings
from dispatch.email.sender import Report, SmtpSettings, deliver_due
from dispatch.payload import incident_payload, visit_payload
from dispatch.ports import Ports

log = logging.getLogger(__name__)

Connect = Callable[[], AbstractContextManager[psycopg.Connection]]
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def expire_holds(connect: Connect, clock: Clock = _utc_now) -> int:
    """Release holds that expired unconfirmed and tell each customer (calendar CANCEL)."""
    with connect() as conn:
        return appointments.expire_holds(conn, now=clock())


def send_reminders(connect: Connect, clock: Clock = _utc_now) -> int:
    """Queue a reminder for each booked visit starting within the next 12-36 hours, once."""
    now = clock()
    queued = 0
    with connect() as conn:
        visits = conn.execute(
            """SELECT v.id, v.incident_id, coalesce(a.sequence, 0) FROM visits v
               LEFT JOIN appointments a ON a.incident_id = v.incident_id
               WHERE v.state = 'booked' AND v.reminded_at IS NULL
                 AND v.starts_at > %s AND v.starts_at <= %s ORDER BY v.starts_at""",
            (now + timedelta(hours=12), now + timedelta(hours=36))).fetchall()
        for vid, incident_id, sequence in visits:
            with conn.transaction():
                conn.execute("UPDATE visits SET reminded_at = %s WHERE id = %s", (now, vid))
                found = adapter.load_incident(conn, incident_id)
                v = appointments.visit(conn, vid)
                if found is None or v is None:
                    continue
                customer, incident = found
                if not customer.email or not customer.consent_email or customer.unsubscribed:
                    continue
                payload = incident_payload("reminder", incident, customer)
                payload["visit"] = visit_payload(vid, v.technician_id, v.technician,
                                                 v.starts_at, v.ends_at, sequence=sequence)
                outbox.enqueue(conn, key=f"reminder:{vid}", kind="reminder",
                               customer_id=customer.customer_id, to_addr=customer.email,
                               language=customer.language, payload=payload, send_at=now)
                queued += 1
    return queued


def refresh_availability_job(connect: Connect, ports: Ports, clock: Clock = _utc_now) -> int:
    """Recompute household availability from recent usage."""
    with connect() as conn:
        return refresh_availability(conn, now=clock(), ports=ports)


def retry_outbox(connect: Connect, smtp: SmtpSettings, email: EmailSettings,
                 clock: Clock = _utc_now) -> Report:
    """Deliver due and retryable emails."""
    with connect() as conn:
        return deliver_due(conn, smtp, email, clock=clock)


def build_scheduler(connect: Connect, *, smtp: SmtpSettings, email: EmailSettings,
                    ports: Ports, clock: Clock = _utc_now, outbox_every_s: float = 10,
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
                      id="refresh_availability", args=(connect, ports, clock))
    return scheduler
