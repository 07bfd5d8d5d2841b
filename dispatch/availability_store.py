"""PostgreSQL adapter for household availability: refresh from usage, load for booking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import psycopg

from dispatch import adapter
from dispatch.availability import (
    Availability,
    AvailabilityConfig,
    days_from_confidence,
    population_prior,
    predict,
)
from dispatch.availability_evidence import Outcome, outcome_for
from dispatch.ports import Ports
from dispatch.types import CustomerInfo

DEFAULT_AVAILABILITY = AvailabilityConfig()
DEFAULT_MAX_AGE = timedelta(hours=6)  # the refresh job's period


def save_availability(conn: psycopg.Connection, customer_id: str, a: Availability, *,
                      now: datetime) -> None:
    """Store (replace) a household's availability."""
    conn.execute(
        """INSERT INTO household_availability (customer_id, tz, p_home, confidence, events,
                                                homebody, computed_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (customer_id) DO UPDATE SET tz = EXCLUDED.tz, p_home = EXCLUDED.p_home,
             confidence = EXCLUDED.confidence, events = EXCLUDED.events,
             homebody = EXCLUDED.homebody, computed_at = EXCLUDED.computed_at""",
        (customer_id, a.tz, a.p_home.tolist(), a.confidence.tolist(), a.events, a.homebody,
         now))


def load_availability(conn: psycopg.Connection, customer_id: str,
                      fresh_after: datetime | None = None) -> Availability | None:
    """A household's stored availability, if any (and, with `fresh_after`, computed after it);
    its days of history are read back from the stored confidence."""
    row = conn.execute("SELECT tz, p_home, confidence, events, computed_at, homebody "
                       "FROM household_availability WHERE customer_id = %s",
                       (customer_id,)).fetchone()
    if row is None or (fresh_after is not None and row[4] <= fresh_after):
        return None
    confidence = np.asarray(row[2], dtype=np.float64)
    return Availability(np.asarray(row[1], dtype=np.float64), confidence, row[0], int(row[3]),
                        days=days_from_confidence(confidence), homebody=float(row[5]))


def record_outcome(conn: psycopg.Connection, customer_id: str, kind: str, start: datetime,
                   end: datetime, *, chosen: tuple[datetime, datetime] | None = None,
                   at: datetime | None = None) -> None:
    """Record a visit outcome (nobody_home, confirmed, picked_another) and drop the stored
    model so the next booking recomputes it with this evidence."""
    outcome_for(kind, start, end, chosen)  # validates
    conn.execute(
        """INSERT INTO availability_outcomes (customer_id, kind, starts_at, ends_at,
                                              chosen_start, chosen_end, at)
           VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()))""",
        (customer_id, kind, start, end, chosen[0] if chosen else None,
         chosen[1] if chosen else None, at))
    conn.execute("DELETE FROM household_availability WHERE customer_id = %s", (customer_id,))


def learn_from_visit(conn: psycopg.Connection, visit_id: int, kind: str, *,
                     chosen_visit_id: int | None = None, at: datetime | None = None) -> None:
    """Record what a visit taught about its household: nobody_home (a technician found no
    one), confirmed (the customer confirmed, or the work was done), picked_another (the
    customer chose `chosen_visit_id` instead). Nothing when the visit is unknown."""
    rows = {int(r[0]): r[1:] for r in conn.execute(
        "SELECT id, customer_id, starts_at, ends_at FROM visits WHERE id = ANY(%s)",
        ([visit_id] + ([chosen_visit_id] if chosen_visit_id is not None else []),))}
    if visit_id not in rows or (chosen_visit_id is not None and chosen_visit_id not in rows):
        return
    customer_id, start, end = rows[visit_id]
    chosen = (rows[chosen_visit_id][1], rows[chosen_visit_id][2]) if chosen_visit_id else None
    record_outcome(conn, customer_id, kind, start, end, chosen=chosen, at=at)


def load_outcomes(conn: psycopg.Connection, customer_id: str, *, since: datetime
                  ) -> list[Outcome]:
    """A household's recorded outcomes since `since`, as model evidence."""
    rows = conn.execute(
        """SELECT kind, starts_at, ends_at, chosen_start, chosen_end FROM availability_outcomes
           WHERE customer_id = %s AND starts_at >= %s ORDER BY starts_at""",
        (customer_id, since)).fetchall()
    out: list[Outcome] = []
    for kind, start, end, c0, c1 in rows:
        out += outcome_for(kind, start, end, (c0, c1) if c0 is not None else None)
    return out


def _recompute(conn: psycopg.Connection, customer_id: str, tz: str, *, now: datetime,
               config: AvailabilityConfig, ports: Ports) -> Availability:
    times = adapter.load_usage_times(conn, customer_id,
                                     since=now - timedelta(weeks=config.window_weeks), until=now,
                                     ports=ports)
    outcomes = load_outcomes(conn, customer_id, since=now - timedelta(weeks=config.window_weeks))
    a = predict(times, tz=tz, now=now, consent=True, outcomes=outcomes, config=config)
    save_availability(conn, customer_id, a, now=now)
    return a


def refresh_availability(conn: psycopg.Connection, *, now: datetime, ports: Ports,
                         config: AvailabilityConfig = DEFAULT_AVAILABILITY) -> int:
    """Recompute every consenting household; drop stored data of those who withdrew consent."""
    consenting = adapter.customers_with_usage_consent(conn)
    for customer_id, tz in consenting:
        _recompute(conn, customer_id, tz, now=now, config=config, ports=ports)
    conn.execute("DELETE FROM household_availability WHERE NOT (customer_id = ANY (%s))",
                 ([c for c, _ in consenting],))
    return len(consenting)


def availability_for(conn: psycopg.Connection, customer: CustomerInfo, *, now: datetime,
                     ports: Ports,
                     max_age: timedelta = DEFAULT_MAX_AGE,
                     config: AvailabilityConfig = DEFAULT_AVAILABILITY) -> Availability:
    """This customer's availability: learned with consent, else the population prior (no days
    of history). A stored model older than `max_age` at `now` (the decision's time: event
    time in a simulation) is recomputed from usage first, so a booking never waits for the
    periodic refresh job to have run."""
    if not customer.consent_availability:
        return Availability(population_prior(), np.zeros(168), customer.tz, 0)
    a = load_availability(conn, customer.customer_id, fresh_after=now - max_age)
    if a is None:
        a = _recompute(conn, customer.customer_id, customer.tz, now=now, config=config,
                       ports=ports)
    return a


def p_home_for(conn: psycopg.Connection, customer: CustomerInfo, *, now: datetime,
               ports: Ports, max_age: timedelta = DEFAULT_MAX_AGE,
               config: AvailabilityConfig = DEFAULT_AVAILABILITY) -> Callable[[datetime], float]:
    """P(home) at an instant for this customer (`availability_for`)."""
    return availability_for(conn, customer, now=now, ports=ports, max_age=max_age,
                            config=config).at
