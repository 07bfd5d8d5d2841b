"""The one place where dispatch reads other areas' data: the tables of `devices/` (customers,
households, devices, consents, the error-code catalog) and, through `Ports`, usage events
(ingest's). Everything else in dispatch works on the value types of `dispatch.types`; when
those tables change, only this module changes.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import psycopg

from dispatch.ports import Ports
from dispatch.types import CustomerInfo, FaultInfo, IncidentInfo

# state events that show someone used an appliance (the simulator emits the first three)
USAGE_STATES = ("cycle_started", "door_opened", "hot_water_draw", "door_open", "hot_water_drawn")

_CUSTOMER_SQL = """
SELECT c.customer_id, c.email, c.name, c.language, c.time_zone, c.quiet_start, c.quiet_end,
       coalesce(k.proactive_email, false), coalesce(k.usage_for_availability, false),
       coalesce(c.lat, 0), coalesce(c.lon, 0), c.postal_code,
       EXISTS (SELECT 1 FROM email_unsubscribes u WHERE u.customer_id = c.customer_id)
FROM customers c
LEFT JOIN customer_consents k ON k.customer_id = c.customer_id
WHERE {where}
"""


def _customer(row: tuple) -> CustomerInfo:  # type: ignore[type-arg]
    return CustomerInfo(customer_id=row[0], email=row[1], name=row[2], language=row[3],
                        tz=row[4], quiet_start=row[5], quiet_end=row[6], consent_email=row[7],
                        consent_availability=row[8], lat=row[9], lon=row[10],
                        territory="", unsubscribed=row[12])


def load_customer(conn: psycopg.Connection, *, customer_id: str | None = None,
                  device_id: str | None = None) -> CustomerInfo | None:
    """The customer (with consents and unsubscribe) by id, or of the household owning a device."""
    if customer_id is not None:
        row = conn.execute(_CUSTOMER_SQL.format(where="c.customer_id = %s"),
                           (customer_id,)).fetchone()
    elif device_id is not None:
        row = conn.execute(_CUSTOMER_SQL.format(where="""c.customer_id = (
            SELECT h.customer_id FROM devices d JOIN households h
              ON h.household_id = d.household_id WHERE d.device_id = %s)"""),
            (device_id,)).fetchone()
    else:
        raise ValueError("give customer_id or device_id")
    return None if row is None else _customer(row)


def load_fault(conn: psycopg.Connection, model_id: str, code: str,
               language: str = "en") -> FaultInfo | None:
    """The catalog entry of a fault code, texts in `language` (English as the fallback)."""
    row = conn.execute(
        """SELECT e.code, coalesce(t.title, en.title, e.title),
                  coalesce(t.meaning, en.meaning, e.meaning), e.severity, e.customer_fixable,
                  e.urgent, e.skill, e.parts, e.visit_minutes, coalesce(t.steps, en.steps, '{}'),
                  coalesce(nullif(t.safety, ''), en.safety, '')
           FROM error_codes e
           LEFT JOIN error_code_texts t ON t.model_id = e.model_id AND t.code = e.code
                                       AND t.language = %s
           LEFT JOIN error_code_texts en ON en.model_id = e.model_id AND en.code = e.code
                                        AND en.language = 'en'
           WHERE e.model_id = %s AND e.code = %s""",
        (language, model_id, code)).fetchone()
    if row is None:
        return None
    return FaultInfo(code=row[0], title=row[1], meaning=row[2], severity=row[3],
                     customer_fixable=row[4], urgent=row[5], skill=row[6], parts=tuple(row[7]),
                     visit_minutes=row[8], self_help_steps=tuple(row[9]), safety=row[10])


def model_kind(conn: psycopg.Connection, model_id: str) -> str:
    """The kind of appliance a model is (washer, fridge, ...), '' when unknown."""
    row = conn.execute("SELECT kind FROM models WHERE model_id = %s", (model_id,)).fetchone()
    return "" if row is None else str(row[0])


def load_incident(conn: psycopg.Connection, incident_id: str
                  ) -> tuple[CustomerInfo, IncidentInfo] | None:
    """The customer and the incident (catalog entry in the customer's language) of an incident
    dispatch decided on; None when the device, its customer or the code is gone."""
    row = conn.execute(
        """SELECT d.device_id, d.fault_code, d.customer_id, v.model_id, d.decided_at
           FROM dispatch_decisions d JOIN devices v ON v.device_id = d.device_id
           WHERE d.incident_id = %s AND d.device_id <> '' ORDER BY d.id LIMIT 1""",
        (incident_id,)).fetchone()
    if row is None:
        return None
    device_id, code, customer_id, model_id, opened_at = row
    customer = load_customer(conn, customer_id=customer_id)
    if customer is None:
        return None
    fault = (load_fault(conn, model_id, code, customer.language)
             or _emailed_fault(conn, incident_id) or FaultInfo(code, code))
    return customer, IncidentInfo(incident_id, device_id, model_id, fault, opened_at,
                                  appliance_kind=model_kind(conn, model_id))


def load_usage_times(conn: psycopg.Connection, customer_id: str, *, since: datetime,
                     until: datetime, ports: Ports) -> np.ndarray:
    """Epoch seconds (int64) of usage events from the customer's appliances in [since, until)."""
    devices = [r[0] for r in conn.execute(
        """SELECT d.id FROM devices d JOIN households h ON h.household_id = d.household_id
           WHERE h.customer_id = %s""", (customer_id,)).fetchall()]
    return ports.state_times(conn, devices, USAGE_STATES, since=since, until=until)


def customers_with_usage_consent(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(customer id, time zone) of every customer who consented to availability from usage."""
    rows = conn.execute(
        """SELECT c.customer_id, c.time_zone FROM customers c
           JOIN customer_consents k ON k.customer_id = c.customer_id
           WHERE k.usage_for_availability ORDER BY c.customer_id""").fetchall()
    return [(r[0], r[1]) for r in rows]


def _emailed_fault(conn: psycopg.Connection, incident_id: str) -> FaultInfo | None:
    """The fault as the first email about the incident described it (a code the catalog no
    longer has)."""
    row = conn.execute(
        """SELECT coalesce(payload -> 'fault', (SELECT i -> 'fault' FROM jsonb_array_elements(
                  payload -> 'items') i WHERE i ->> 'incident_id' = %s LIMIT 1))
           FROM email_outbox WHERE payload ->> 'incident_id' = %s
              OR payload -> 'items'
                 @> jsonb_build_array(jsonb_build_object('incident_id', %s::text))
           ORDER BY id LIMIT 1""", (incident_id, incident_id, incident_id)).fetchone()
    if row is None or row[0] is None:
        return None
    f = row[0]
    return FaultInfo(code=f["code"], title=f["title"], meaning=f.get("meaning", ""),
                     severity=f.get("severity", "error"), parts=tuple(f.get("parts", ())),
                     self_help_steps=tuple(f.get("steps", ())), safety=f.get("safety", ""))
