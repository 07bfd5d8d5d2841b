"""A job's stable number, its history of moves and who made them, and the remaining-life
estimate its incident carries (read through dispatch's queries and the base's catalog)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from dispatch import queries as dispatch_queries
from rules.limits import trend_rule

WORDS = {"job.move": "moved", "job.dispatch": "booked", "job.start": "started",
         "job.complete": "completed", "job.cannot_complete": "could not complete"}


def number(conn: psycopg.Connection, incident_id: str) -> int | None:
    """The job's number (kept when the job is re-dispatched)."""
    return dispatch_queries.job_number(conn, incident_id)


def _who(actor: str) -> str:
    parts = actor.split(":", 2)
    return parts[2] if len(parts) == 3 and parts[0] in ("user", "token") else actor


def _where(place: dict[str, Any] | None, names: dict[int, str], zone: ZoneInfo) -> str:
    if not place:
        return ""
    when = datetime.fromisoformat(place["starts_at"]).astimezone(zone)
    return f"{names.get(place['technician_id'], place['technician_id'])} {when:%a %d %b %H:%M}"


def history(conn: psycopg.Connection, incident_id: str, *, tz: str) -> list[dict[str, Any]]:
    """What people did to the job's visits, oldest first: when, who, what, from where to where."""
    rows = dispatch_queries.visit_audit(conn, incident_id)
    names = dispatch_queries.technician_names(conn) if rows else {}
    zone = ZoneInfo(tz)
    out = []
    for at, actor, action, visit_id, detail in rows:
        frm, to = _where(detail.get("from") if isinstance(detail.get("from"), dict) else None,
                         names, zone), _where(detail.get("to"), names, zone)
        out.append({"at": at, "who": _who(actor), "what": WORDS.get(action, action),
                    "visit_id": visit_id, "from": frm, "to": to,
                    "note": "; ".join(detail.get("warnings") or []) or detail.get("outcome", "")})
    return out


def remaining_life(conn: psycopg.Connection, incident: dict[str, Any],
                   device: dict[str, Any]) -> dict[str, Any] | None:
    """Days until a trend rule's limit, from the incident's latest trend reading (None when
    no trend rule raised it)."""
    for source in incident.get("sources") or []:
        limit = trend_rule(device["model_id"], source)
        if limit is None:
            continue
        row = conn.execute("SELECT metric_id, unit FROM model_metrics WHERE model_id = %s "
                           "AND name = %s", (device["model_id"], limit.metric)).fetchone()
        readings = [r for r in incident.get("readings") or []
                    if row and r.get("metric") == row[0] and r.get("score") is not None
                    and r["score"] == r["score"]]
        if not readings:
            continue
        last = max(readings, key=lambda r: r.get("ts_ms", 0))
        at = datetime.fromtimestamp(last["ts_ms"] / 1000, ZoneInfo("UTC"))
        days = max(float(last["score"]), 0.0)
        return {"days": days, "until": at + timedelta(days=days), "metric": limit.metric,
                "limit": limit.value, "unit": row[1] if row else "", "rule": source}
    return None
