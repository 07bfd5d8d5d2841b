"""The one place the web tells a customer that a scheduler changed their visit."""

from __future__ import annotations

from datetime import datetime

import psycopg

from dispatch.appointments import scheduler_changed


def tell_customer(conn: psycopg.Connection, incident_id: str, *, now: datetime) -> int | None:
    """Queue one email with the visit as it is now; the outbox id, None if not emailed."""
    return scheduler_changed(conn, incident_id, now=now)
