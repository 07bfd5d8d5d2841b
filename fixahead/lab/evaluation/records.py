"""Read what the platform recorded for a run from PostgreSQL (adapter).

Only the platform's tables are read (incidents, events, email_outbox, dispatch_decisions,
visits, technicians, error_codes, devices); never its counters or summaries. Incidents are
those of the run's devices opened within the run (plus a grace period); emails and visits are
those linked to these incidents (by the payload's `incident_id`, a digest's items, or a
decision's `outbox_id`), so other runs in the same database do not leak in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg

from dispatch.booking import SearchConfig
from dispatch.booking_store import load_technicians
from fixahead.lab.evaluation.baseline import (
    DEFAULT_SEARCH,
    CalendarEntry,
    first_free_slots,
    requests_from,
)
from fixahead.lab.evaluation.types import (
    DAY_MS,
    Email,
    EmailItem,
    ErrorArrival,
    Incident,
    Records,
    Visit,
)


def _ms(t: datetime | None) -> int | None:
    return None if t is None else int(t.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def load_incidents(conn: psycopg.Connection, device_ids: Iterable[str], *, start_ms: int,
                   end_ms: int) -> list[Incident]:
    """Incidents of these devices opened in [start_ms, end_ms]."""
    rows = conn.execute(
        """SELECT i.key, d.device_id, i.fault, i.kind, i.action, i.opened_at, i.closed_at,
                  i.sources
           FROM incidents i JOIN devices d ON d.id = i.device
           WHERE d.device_id = ANY (%s) AND i.opened_at BETWEEN %s AND %s
           ORDER BY i.opened_at, i.key""",
        (list(device_ids), _at(start_ms), _at(end_ms))).fetchall()
    return [Incident(r[0], r[1], r[2], r[3], r[4], _ms(r[5]) or 0, _ms(r[6]), tuple(r[7]))
            for r in rows]


def _items(kind: str, payload: dict[str, Any]) -> list[EmailItem]:
    if kind == "digest":
        return [EmailItem(str(i.get("incident_id", "")), str(i.get("kind", "")))
                for i in payload.get("items", []) if isinstance(i, dict)]
    if "incident_id" in payload:
        return [EmailItem(str(payload["incident_id"]), str(payload.get("kind", kind)))]
    return []


def load_emails(conn: psycopg.Connection, incident_keys: set[str]) -> list[Email]:
    """Outbox rows (any state) with at least one item about these incidents."""
    linked: dict[int, list[EmailItem]] = {}
    for outbox_id, incident_id, action in conn.execute(
            "SELECT outbox_id, incident_id, action FROM dispatch_decisions "
            "WHERE outbox_id IS NOT NULL AND incident_id = ANY (%s)", (list(incident_keys),)):
        linked.setdefault(outbox_id, []).append(EmailItem(incident_id, action))
    out = []
    for oid, kind, created, payload, state in conn.execute(
            """SELECT id, kind, created_at, payload, state FROM email_outbox
               WHERE payload ->> 'incident_id' = ANY (%s) OR kind = 'digest' OR id = ANY (%s)
               ORDER BY id""", (list(incident_keys), list(linked))):
        items = [i for i in _items(kind, payload) if i.incident_key in incident_keys]
        have = {i.incident_key for i in items}
        items += [i for i in linked.get(oid, []) if i.incident_key not in have]
        if items:
            reply = kind == "confirmation" and (payload or {}).get("by") == "customer"
            out.append(Email(oid, kind, created.timestamp(), tuple(items), state, reply))
    return out


def load_calendar(conn: psycopg.Connection) -> list[CalendarEntry]:
    """Every visit as a calendar entry, with the time of the decision that proposed it."""
    rows = conn.execute(
        """SELECT v.id, v.incident_id, v.technician_id, v.starts_at, v.ends_at, v.lat, v.lon,
                  v.state, (SELECT min(d.decided_at) FROM dispatch_decisions d
                            WHERE d.visit_id = v.id),
                  v.hold_expires_at, v.skill, v.parts, v.urgent
           FROM visits v ORDER BY v.id""").fetchall()
    return [CalendarEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                          tuple(r[11]), r[12]) for r in rows]


def load_errors(conn: psycopg.Connection, device_ids: Iterable[str], *, start_ms: int,
                end_ms: int) -> list[ErrorArrival]:
    """Error-code events of these devices in the run, with their arrival (wall clock)."""
    rows = conn.execute(
        """SELECT d.device_id, e.code, e.time, e.received_at
           FROM events e JOIN devices d ON d.id = e.device
           WHERE e.kind = 'error' AND e.code IS NOT NULL AND d.device_id = ANY (%s)
             AND e.time BETWEEN %s AND %s""",
        (list(device_ids), _at(start_ms), _at(end_ms))).fetchall()
    return [ErrorArrival(r[0], r[1], _ms(r[2]) or 0, r[3].timestamp()) for r in rows]


def stored_devices(conn: psycopg.Connection, device_ids: Iterable[str]) -> int:
    """How many of these devices the database knows (0: the run was not played into it)."""
    row = conn.execute("SELECT count(*) FROM devices WHERE device_id = ANY (%s)",
                       (list(device_ids),)).fetchone()
    return int(row[0]) if row else 0


def load_catalog_codes(conn: psycopg.Connection) -> dict[str, frozenset[str]]:
    """Error codes per model id."""
    rows = conn.execute("SELECT model_id, array_agg(code) FROM error_codes GROUP BY model_id")
    return {m: frozenset(codes) for m, codes in rows}


def load_records(conn: psycopg.Connection, truth: dict[str, Any], *, grace_days: float = 1.0,
                 search: SearchConfig = DEFAULT_SEARCH) -> Records:
    """Everything the scorer needs about the run described by `truth`, baseline included."""
    start_ms = int(truth["run"]["start_ms"])
    end_ms = int(truth["run"]["end_ms"]) + int(grace_days * DAY_MS)
    devices = [d["device_id"] for d in truth.get("devices", [])]
    incidents = load_incidents(conn, devices, start_ms=start_ms, end_ms=end_ms)
    keys = {i.key for i in incidents}
    calendar = load_calendar(conn)
    ours = [c for c in calendar if c.incident_key in keys]
    visits = tuple(Visit(c.visit_id, c.incident_key, _ms(c.start) or 0, _ms(c.end) or 0,
                         c.state, c.urgent) for c in ours)
    baseline = first_free_slots(requests_from(ours), load_technicians(conn), calendar,
                                config=search)
    return Records(incidents=tuple(incidents), emails=tuple(load_emails(conn, keys)),
                   visits=visits, errors=tuple(load_errors(conn, devices, start_ms=start_ms,
                                                           end_ms=end_ms)),
                   baseline=baseline, catalog_codes=load_catalog_codes(conn))
