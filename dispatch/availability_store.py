"""PostgreSQL adapter for household availability: refresh from usage, load for booking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import psycopg

from dispatch import adapter
from dispatch.availability import Availability, AvailabilityConfig, population_prior, predict
from dispatch.types import CustomerInfo

DEFAULT_AVAILABILITY = AvailabilityConfig()


def save_availability(conn: psycopg.Connection, customer_id: str, a: Availability, *,
                      now: datetime) -> None:
    """Store (replace) a household's availability."""
    conn.execute(
        """INSERT INTO household_availability (customer_id, tz, p_home, confidence, events,
                                                computed_at) VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (customer_id) DO UPDATE SET tz = EXCLUDED.tz, p_home = EXCLUDED.p_home,
             confidence = EXCLUDED.confidence, events = EXCLUDED.events,
             computed_at = EXCLUDED.computed_at""",
        (customer_id, a.tz, a.p_home.tolist(), a.confidence.tolist(), a.events, now))


def load_availability(conn: psycopg.Connection, customer_id: str) -> Availability | None:
    """A household's stored availability, if any."""
    row = conn.execute("SELECT tz, p_home, confidence, events FROM household_availability "
                       "WHERE customer_id = %s", (customer_id,)).fetchone()
    if row is None:
        return None
    return Availability(np.asarray(row[1], dtype=np.float64),
                        np.asarray(row[2], dtype=np.float64), row[0], int(row[3]))


def refresh_availability(conn: psycopg.Connection, *, now: datetime,
                         config: AvailabilityConfig = DEFAULT_AVAILABILITY) -> int:
    """Recompute every consenting household; drop stored data of those who withdrew consent."""
    consenting = adapter.customers_with_usage_consent(conn)
    since = now - timedelta(weeks=config.window_weeks)
    for customer_id, tz in consenting:
        times = adapter.load_usage_times(conn, customer_id, since=since, until=now)
        a = predict(times, tz=tz, now=now, consent=True, config=config)
        save_availability(conn, customer_id, a, now=now)
    conn.execute("DELETE FROM household_availability WHERE NOT (customer_id = ANY (%s))",
                 ([c for c, _ in consenting],))
    return len(consenting)


def p_home_for(conn: psycopg.Connection, customer: CustomerInfo) -> Callable[[datetime], float]:
    """P(home) at an instant for this customer: learned with consent, else the population prior."""
    stored = load_availability(conn, customer.customer_id) if customer.consent_availability \
        else None
    a = stored or Availability(population_prior(), np.zeros(168), customer.tz, 0)
    return a.at
