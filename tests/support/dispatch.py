"""Test data for dispatch: customers in the devices area's tables (minimal stand-ins if absent)."""

from __future__ import annotations

from datetime import time

import psycopg

from dispatch.booking import Technician
from dispatch.booking_store import add_technician
from fixahead.wiring import dispatch_ports

# what dispatch reads of other areas, wired as in production (usage events from ingest)
PORTS = dispatch_ports()

_MINIMAL = """
CREATE TABLE IF NOT EXISTS customers (customer_id text PRIMARY KEY, name text NOT NULL,
    email text NOT NULL, language text NOT NULL DEFAULT 'en', time_zone text NOT NULL DEFAULT 'UTC',
    postal_code text NOT NULL DEFAULT '', lat double precision, lon double precision,
    quiet_start time NOT NULL DEFAULT '21:00', quiet_end time NOT NULL DEFAULT '08:00');
CREATE TABLE IF NOT EXISTS households (household_id text PRIMARY KEY,
    customer_id text NOT NULL REFERENCES customers);
ALTER TABLE devices ADD COLUMN IF NOT EXISTS household_id text;
CREATE TABLE IF NOT EXISTS consents (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id text NOT NULL, kind text NOT NULL, granted boolean NOT NULL, source text NOT NULL);
CREATE OR REPLACE VIEW customer_consents AS SELECT c.customer_id,
    coalesce((SELECT granted FROM consents k WHERE k.customer_id = c.customer_id
              AND k.kind = 'proactive_email' ORDER BY id DESC LIMIT 1), false) AS proactive_email,
    coalesce((SELECT granted FROM consents k WHERE k.customer_id = c.customer_id
              AND k.kind = 'usage_for_availability' ORDER BY id DESC LIMIT 1), false)
        AS usage_for_availability
FROM customers c;
"""


def ensure_customer_tables(conn: psycopg.Connection) -> None:
    """Create minimal customer tables when the devices area's migration is not present."""
    if conn.execute("SELECT to_regclass('customers')").fetchone() == (None,):
        conn.execute(_MINIMAL)


def add_customer(conn: psycopg.Connection, customer_id: str, *, email: str, name: str = "Ada",
                 language: str = "en", tz: str = "Europe/Berlin", lat: float = 52.52,
                 lon: float = 13.40, consent_email: bool = True, consent_usage: bool = True,
                 quiet: tuple[time, time] = (time(22, 0), time(7, 0)),
                 device_id: str | None = None, model_id: str = "WM-800") -> None:
    """A customer with one household, consents, and optionally a device in the household."""
    ensure_customer_tables(conn)
    conn.execute(
        """INSERT INTO customers (customer_id, name, email, language, time_zone, lat, lon,
                                  quiet_start, quiet_end) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)""",
        (customer_id, name, email, language, tz, lat, lon, quiet[0], quiet[1]))
    conn.execute("INSERT INTO households (household_id, customer_id) VALUES (%s, %s)",
                 (f"h-{customer_id}", customer_id))
    for kind, granted in (("proactive_email", consent_email),
                          ("usage_for_availability", consent_usage)):
        conn.execute("INSERT INTO consents (customer_id, kind, granted, source) "
                     "VALUES (%s, %s, %s, 'test')", (customer_id, kind, granted))
    if device_id is not None:
        conn.execute("INSERT INTO devices (device_id, model_id, household_id) VALUES (%s,%s,%s)",
                     (device_id, model_id, f"h-{customer_id}"))


def add_technicians(conn: psycopg.Connection, n: int = 2, *, lat: float = 52.52,
                    lon: float = 13.40, skill: str = "washer") -> list[int]:
    """`n` Berlin technicians with a skill, working 08-17 on weekdays."""
    return [add_technician(conn, Technician(technician_id=0, name=f"Tech {i}",
                                            skills=frozenset({skill, "appliance"}),
                                            lat=lat, lon=lon, tz="Europe/Berlin"))
            for i in range(n)]
