"""PostgreSQL adapter for diagnostics requests and replies (tables of migration 0060).

Functions take an autocommit connection and open their own transactions. The state changes
themselves are decided by the pure `devices.diagnostics`; this module loads, locks and saves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from devices.audit import audit
from devices.commands import CommandError, CommandKind, decode_reply, new_request_id
from devices.diagnostics import (
    Applied,
    Refusal,
    Request,
    State,
    apply_reply,
    mark_sent,
    new_request,
)

DEFAULT_TTL = timedelta(minutes=30)
CHANNEL = "fixahead_diagnostics"  # NOTIFY payload: the device id of a new request
_COLUMNS = """request_id, device_id, kind, created_at, expires_at, state, sent_at, acked_at,
              answered_at, status, result, incident_id, visit_id"""


class UnknownDevice(LookupError):
    """The device is not registered (or is revoked)."""


def _request(row: tuple[Any, ...]) -> Request:
    return Request(row[0], row[1], CommandKind(row[2]), row[3], row[4], State(row[5]), row[6],
                   row[7], row[8], row[9], row[10], row[11], row[12])


def create_request(conn: psycopg.Connection, *, device_id: str, kind: CommandKind | str,
                   now: datetime, actor: str, ttl: timedelta = DEFAULT_TTL,
                   incident_id: str | None = None, visit_id: int | None = None) -> Request:
    """Record a new pending request for an active device, audited; raise UnknownDevice.
    A request for a visit (job) names the visit's incident too: the caller looks it up
    (visits are dispatch's: `dispatch.appointments.incident_of`)."""
    req = new_request(new_request_id(), device_id, kind, now=now, ttl=ttl,
                      incident_id=incident_id, visit_id=visit_id)
    with conn.transaction():
        found = conn.execute("SELECT 1 FROM devices WHERE device_id = %s AND state = 'active'",
                             (device_id,)).fetchone()
        if found is None:
            raise UnknownDevice(f"device {device_id!r} is not registered or is revoked")
        conn.execute(
            """INSERT INTO diagnostic_requests (request_id, device_id, kind, created_at,
                                                expires_at, incident_id, visit_id, requested_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (req.request_id, device_id, req.kind.value, now, req.expires_at, incident_id,
             visit_id, actor))
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, device_id))
        audit(conn, actor=actor, action="diagnostics.request", subject_type="device",
              subject_id=device_id, detail={"request_id": req.request_id,
                                            "kind": req.kind.value, "incident_id": incident_id,
                                            "visit_id": visit_id,
                                            "expires_at": req.expires_at.isoformat()})
    return req


def load_request(conn: psycopg.Connection, request_id: str, *,
                 lock: bool = False) -> Request | None:
    """One request by id (locked for update when asked)."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM diagnostic_requests WHERE request_id = %s"
                       + (" FOR UPDATE" if lock else ""), (request_id,)).fetchone()
    return None if row is None else _request(row)


def requests_for(conn: psycopg.Connection, *, device_id: str | None = None,
                 incident_id: str | None = None, visit_id: int | None = None,
                 limit: int = 50) -> list[Request]:
    """Requests of a device, an incident or a visit, newest first."""
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM diagnostic_requests
            WHERE (%(d)s::text IS NULL OR device_id = %(d)s)
              AND (%(i)s::text IS NULL OR incident_id = %(i)s)
              AND (%(v)s::bigint IS NULL OR visit_id = %(v)s)
            ORDER BY created_at DESC, request_id LIMIT %(n)s""",
        {"d": device_id, "i": incident_id, "v": visit_id, "n": limit}).fetchall()
    return [_request(r) for r in rows]


def pending_for(conn: psycopg.Connection, device_ids: list[str] | None, *,
                now: datetime, state: State = State.PENDING) -> list[Request]:
    """Unexpired requests in `state` (pending by default; `sent`: not acknowledged yet) of
    these devices (or all when None), oldest first."""
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM diagnostic_requests
            WHERE state = %s AND expires_at > %s
              AND (%s::text[] IS NULL OR device_id = ANY (%s::text[]))
            ORDER BY created_at""", (state.value, now, device_ids, device_ids)).fetchall()
    return [_request(r) for r in rows]


def record_sent(conn: psycopg.Connection, request_id: str, *, now: datetime) -> bool:
    """Mark a pending request sent; False when it was no longer pending."""
    with conn.transaction():
        req = load_request(conn, request_id, lock=True)
        if req is None or req.state is not State.PENDING:
            return False
        sent = mark_sent(req, now=now)
        conn.execute("UPDATE diagnostic_requests SET state = %s, sent_at = %s "
                     "WHERE request_id = %s", (sent.state.value, now, request_id))
    return True


def expire_due(conn: psycopg.Connection, *, now: datetime) -> int:
    """Expire every open request past its expiry; return how many."""
    cur = conn.execute(
        """UPDATE diagnostic_requests SET state = 'expired'
           WHERE state IN ('pending', 'sent', 'acknowledged') AND expires_at <= %s""", (now,))
    return cur.rowcount


def _save(conn: psycopg.Connection, req: Request) -> None:
    conn.execute(
        """UPDATE diagnostic_requests SET state = %s, sent_at = coalesce(sent_at, %s),
                  acked_at = %s, answered_at = %s, status = %s, result = %s
           WHERE request_id = %s""",
        (req.state.value, req.sent_at, req.acked_at, req.answered_at, req.status,
         None if req.result is None else Jsonb(req.result), req.request_id))


def _refuse(conn: psycopg.Connection, device_id: str, request_id: str | None, reason: str,
            detail: str, payload: bytes) -> None:
    conn.execute("""INSERT INTO diagnostic_refusals (device_id, request_id, reason, detail,
                                                     payload) VALUES (%s, %s, %s, %s, %s)""",
                 (device_id, request_id, reason, detail, payload))


@dataclass(frozen=True)
class Stored:
    """What `store_reply` did: accepted, or refused with a reason."""

    accepted: bool
    request_id: str | None
    state: str | None
    reason: str | None = None
    detail: str = ""


def store_reply(conn: psycopg.Connection, device_id: str, payload: bytes, *,
                now: datetime | None = None) -> Stored:
    """Decode a device's reply, match it to its request and store it; a reply that does not
    fit is kept in `diagnostic_refusals` with the reason. `device_id` comes from the topic."""
    if now is None:
        now = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    try:
        reply = decode_reply(payload)
    except CommandError as exc:
        with conn.transaction():
            _refuse(conn, device_id, None, Refusal.BAD_REPLY.value, str(exc), payload)
        return Stored(False, None, None, Refusal.BAD_REPLY.value, str(exc))
    with conn.transaction():
        req = load_request(conn, reply.request_id, lock=True)
        applied: Applied = apply_reply(req, device_id, reply, now=now)
        if applied.request is not None and applied.request != req:
            _save(conn, applied.request)
        if applied.refusal is not None:
            _refuse(conn, device_id, reply.request_id, applied.refusal.value, applied.detail,
                    payload)
    state = None if applied.request is None or applied.refusal is Refusal.WRONG_DEVICE \
        else applied.request.state.value
    return Stored(applied.accepted, reply.request_id, state,
                  None if applied.refusal is None else applied.refusal.value, applied.detail)


def refusals(conn: psycopg.Connection, device_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The latest refused replies of a device, newest first."""
    rows = conn.execute(
        """SELECT request_id, reason, detail, at FROM diagnostic_refusals WHERE device_id = %s
           ORDER BY id DESC LIMIT %s""", (device_id, limit)).fetchall()
    return [{"request_id": r[0], "reason": r[1], "detail": r[2], "at": r[3]} for r in rows]


def device_online(conn: psycopg.Connection, device_id: str) -> bool | None:
    """The device's last known online status (from ingest), None when unknown."""
    row = conn.execute("SELECT online FROM devices WHERE device_id = %s",
                       (device_id,)).fetchone()
    return None if row is None else row[0]
