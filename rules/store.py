"""PostgreSQL adapter for incidents, rule-state checkpoints and partition leases."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import psycopg
from psycopg import errors

from rules.incidents import Incident, IncidentChange, Life
from rules.remaining_life import life_text


class LeaseLost(RuntimeError):
    """The partition's lease is held by another worker (or expired): stop writing for it."""


def _dt(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def _ms(t: datetime | None) -> int | None:
    return None if t is None else round(t.timestamp() * 1000)


_UPSERT = """
INSERT INTO incidents (key, device, fault, kind, severity, action, title, state, opened_at,
                       updated_at, closed_at, sources, flaps, version, readings, detail)
VALUES (%(key)s, %(device)s, %(fault)s, %(kind)s, %(severity)s, %(action)s, %(title)s,
        %(state)s, %(opened_at)s, %(updated_at)s, %(closed_at)s, %(sources)s, %(flaps)s,
        %(version)s, %(readings)s, %(detail)s)
ON CONFLICT (key) DO UPDATE SET
    kind = EXCLUDED.kind, severity = EXCLUDED.severity, action = EXCLUDED.action,
    title = EXCLUDED.title, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at,
    closed_at = EXCLUDED.closed_at, sources = EXCLUDED.sources, flaps = EXCLUDED.flaps,
    version = EXCLUDED.version, readings = EXCLUDED.readings, detail = EXCLUDED.detail
WHERE incidents.version < EXCLUDED.version
"""

_MERGE = """
UPDATE incidents SET
    updated_at = greatest(updated_at, %(updated_at)s),
    sources = ARRAY(SELECT DISTINCT unnest(sources || %(sources)s::text[])),
    readings = readings || %(readings)s, version = version + 1,
    detail = detail || %(detail)s,
    state = CASE WHEN state = 'acknowledged' THEN state ELSE 'updated' END
WHERE device = %(device)s AND fault = %(fault)s AND state IN ('open', 'updated', 'acknowledged')
RETURNING key, version
"""


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None  # JSON has no NaN or infinity


def detail(inc: Incident) -> dict[str, object]:
    """The incident's `detail` JSON: its remaining life, when it has one."""
    if inc.life is None:
        return {}
    life = inc.life
    return {"remaining_life": {
        "days": life.days, "lo": life.lo, "hi": _finite(life.hi),
        "at": _dt(life.at_ms).isoformat(),  # type: ignore[union-attr]
        "text": life_text(life.days, life.lo, life.hi)}}


def _life(d: dict[str, object]) -> Life | None:
    r = d.get("remaining_life") if isinstance(d, dict) else None
    if not isinstance(r, dict):
        return None
    hi = r.get("hi")
    return Life(float(r["days"]), float(r["lo"]), math.inf if hi is None else float(hi),
                _ms(datetime.fromisoformat(str(r["at"]))) or 0)


def _row(inc: Incident) -> dict[str, object]:
    return {
        "key": inc.key, "device": inc.device, "fault": inc.fault, "kind": inc.kind,
        "severity": inc.severity, "action": inc.action, "title": inc.title,
        "state": inc.state, "opened_at": _dt(inc.opened_ms), "updated_at": _dt(inc.updated_ms),
        "closed_at": _dt(inc.closed_ms), "sources": list(inc.sources), "flaps": inc.flaps,
        "version": inc.version,
        "readings": json.dumps([{k: _finite(v) for k, v in r} for r in inc.readings]),
        "detail": json.dumps(detail(inc)),
    }


def save_changes(conn: psycopg.Connection, changes: Iterable[IncidentChange]) -> list[str]:
    """Write changes idempotently in the caller's transaction; return the stored keys (a new
    incident that races another worker's open one for the same fault is merged into it)."""
    keys = []
    for c in changes:
        row = _row(c.incident)
        try:
            with conn.transaction():  # a savepoint: a lost race must not abort the batch
                conn.execute(_UPSERT, row)
            key, version, change = c.incident.key, c.incident.version, c.change
        except errors.UniqueViolation:
            merged = conn.execute(_MERGE, row).fetchone()
            if merged is None:
                raise
            key, version, change = merged[0], merged[1], "updated"
        conn.execute("INSERT INTO incident_changes (key, version, change, at) "
                     "VALUES (%s, %s, %s, %s) ON CONFLICT (key, version) DO NOTHING",
                     (key, version, change, _dt(c.incident.updated_ms)))
        keys.append(key)
    return keys


def load_open(conn: psycopg.Connection, devices: Sequence[int]) -> list[Incident]:
    """Open incidents of these devices (to rebuild an incident book after a restart)."""
    rows = conn.execute(
        "SELECT key, device, fault, kind, severity, action, title, state, opened_at, "
        "updated_at, sources, flaps, version, readings, detail FROM incidents "
        "WHERE device = ANY(%s) AND state IN ('open', 'updated', 'acknowledged')",
        (list(devices),)).fetchall()
    return [Incident(key=r[0], device=r[1], fault=r[2], kind=r[3], severity=r[4], action=r[5],
                     title=r[6], state=r[7], opened_ms=_ms(r[8]) or 0,
                     updated_ms=_ms(r[9]) or 0, sources=tuple(r[10]), flaps=r[11],
                     version=r[12], clear_since_ms=_ms(r[9]),
                     readings=tuple(tuple((k, math.nan if v is None else v)
                                          for k, v in d.items()) for d in r[13]),
                     life=_life(r[14]))
            for r in rows]


def acquire_lease(conn: psycopg.Connection, part: int, owner: str, ttl_s: float) -> int | None:
    """Take or renew the lease of a partition; its epoch, or None while another holds it."""
    row = conn.execute(
        """INSERT INTO rule_partitions (part, owner, lease_until)
           VALUES (%(part)s, %(owner)s, now() + make_interval(secs => %(ttl)s))
           ON CONFLICT (part) DO UPDATE SET owner = EXCLUDED.owner,
               lease_until = EXCLUDED.lease_until,
               epoch = rule_partitions.epoch
                       + CASE WHEN rule_partitions.owner = EXCLUDED.owner THEN 0 ELSE 1 END
           WHERE rule_partitions.owner = EXCLUDED.owner OR rule_partitions.lease_until < now()
           RETURNING epoch""", {"part": part, "owner": owner, "ttl": ttl_s}).fetchone()
    return None if row is None else int(row[0])


def release_lease(conn: psycopg.Connection, part: int, owner: str) -> None:
    """Give a partition up now (a clean shutdown), so another worker need not wait."""
    conn.execute("UPDATE rule_partitions SET lease_until = now() - interval '1 second' "
                 "WHERE part = %s AND owner = %s", (part, owner))


def save_checkpoint(conn: psycopg.Connection, part: int, owner: str, epoch: int, layout: str,
                    states: Sequence[tuple[int, bytes]], event_ms: int) -> None:
    """Write device states of a partition, fenced by its lease (raises LeaseLost)."""
    with conn.transaction():
        held = conn.execute(
            "SELECT 1 FROM rule_partitions WHERE part = %s AND owner = %s AND epoch = %s "
            "AND lease_until > now() FOR UPDATE", (part, owner, epoch)).fetchone()
        if held is None:
            raise LeaseLost(f"partition {part} is no longer held by {owner} (epoch {epoch})")
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO rule_state (device, part, layout, state, event_ms, epoch)
                   VALUES (%s, %s, %s, %s, %s, %s)
                   ON CONFLICT (device) DO UPDATE SET part = EXCLUDED.part,
                       layout = EXCLUDED.layout, state = EXCLUDED.state,
                       event_ms = EXCLUDED.event_ms, epoch = EXCLUDED.epoch, updated_at = now()
                   WHERE rule_state.epoch <= EXCLUDED.epoch""",
                [(d, part, layout, blob, event_ms, epoch) for d, blob in states])


def load_checkpoint(conn: psycopg.Connection, part: int, layout: str
                    ) -> tuple[list[tuple[int, bytes]], int]:
    """States saved for a partition with this layout, and the event time they reached."""
    rows = conn.execute("SELECT device, state, event_ms FROM rule_state "
                        "WHERE part = %s AND layout = %s", (part, layout)).fetchall()
    return [(int(r[0]), bytes(r[1])) for r in rows], max((int(r[2]) for r in rows), default=0)


def load_mutes(conn: psycopg.Connection, devices: Sequence[int]
               ) -> list[tuple[int, str | None, int, int]]:
    """Snoozes and maintenance windows of these devices (event-time bounds)."""
    rows = conn.execute("SELECT device, fault, starts_at, ends_at FROM incident_mutes "
                        "WHERE device = ANY(%s)",
                        (list(devices),)).fetchall()
    return [(int(r[0]), r[1], _ms(r[2]) or 0, _ms(r[3]) or 0) for r in rows]
