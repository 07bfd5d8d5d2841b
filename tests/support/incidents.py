"""Incidents as the rules store saves them, for dispatch to follow: a consenting customer with a
washer, a drain-pump fault of it, one stored change, and the emails dispatch queued."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from rules.incidents import Incident, IncidentChange
from rules.store import save_changes

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning, event time


def add_customer_device(conn: psycopg.Connection, suffix: str, *,
                        name: str | None = None) -> int:
    """A consenting customer in Berlin's town, on UTC, with one washer (`wm-<suffix>`); the
    washer's registry id."""
    cid = f"cus-{suffix}"
    conn.execute("""INSERT INTO customers (customer_id, name, email, time_zone, lat, lon, street,
                                           city) VALUES (%s, %s, %s, 'UTC', 52.52, 13.40,
                                           'Birkenallee 3', 'Berlin')""",
                 (cid, name or f"Ada {suffix}", f"ada{suffix}@example.org"))
    conn.execute("INSERT INTO households (household_id, customer_id) VALUES (%s, %s)",
                 (f"hh-{suffix}", cid))
    for kind in ("proactive_email", "usage_for_availability"):
        conn.execute("INSERT INTO consents (customer_id, kind, granted, source) "
                     "VALUES (%s, %s, true, 'test')", (cid, kind))
    (dev,) = conn.execute("INSERT INTO devices (device_id, model_id, household_id, firmware) "
                          "VALUES (%s, 'WM-800', %s, '3.1') RETURNING id",
                          (f"wm-{suffix}", f"hh-{suffix}")).fetchone()
    return int(dev)


def drain_fault(dev: int, at: datetime, *, state: str = "open", version: int = 1,
                updated: datetime | None = None) -> Incident:
    """A drain-pump fault (E21, self-help) of `dev` opened at `at`."""
    ms = int(at.timestamp() * 1000)
    upd = int((updated or at).timestamp() * 1000)
    return Incident(key=f"{dev}:E21:{ms}", device=dev, fault="E21", kind="error",
                    severity="warning", action="self_help", title="Drain blocked",
                    state=state, opened_ms=ms, updated_ms=upd, version=version,
                    closed_ms=upd if state in ("auto_cleared", "resolved") else None)


def store(conn: psycopg.Connection, change: str, inc: Incident) -> None:
    """Save one change of an incident, as the rule engine does (its own transaction)."""
    with conn.transaction():
        save_changes(conn, [IncidentChange(change, inc)])


def emails(conn: psycopg.Connection) -> int:
    """How many emails dispatch queued, in any state."""
    return conn.execute("SELECT count(*) FROM email_outbox").fetchone()[0]
