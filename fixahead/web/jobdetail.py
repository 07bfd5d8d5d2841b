"""Everything the job page shows about one incident's job (adapter): dispatch's rows through
`dispatch.queries`, rules' and ingest's through theirs, the base's registry and catalog in SQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dispatch import queries as dispatch_queries
from dispatch.appointments import hold_expired
from fixahead.web import jobhistory
from fixahead.web.chart import Series, svg, thin
from ingest import queries as ingest_queries
from rules import queries as rules_queries
from rules.limits import metric_limits

CHART_BEFORE, CHART_AFTER = timedelta(days=3), timedelta(days=1)


def _one(conn: psycopg.Connection, sql: str, args: tuple[Any, ...]) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, args).fetchone()


def _all(conn: psycopg.Connection, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, args).fetchall()


def visit_incident(conn: psycopg.Connection, visit_id: int) -> str | None:
    """The incident a visit is for."""
    return dispatch_queries.visit_incident(conn, visit_id)


def chart(conn: psycopg.Connection, device: int, model_id: str, readings: list[dict[str, Any]],
          opened_at: datetime, *, now: datetime, title: str, before: timedelta = CHART_BEFORE,
          mark: bool = True, most: int = 2, tz: str = "UTC") -> str:
    """The SVG chart of the incident's metrics (or the model's first `most`) around
    detection (marked when `mark`)."""
    start, end = opened_at - before, min(opened_at + CHART_AFTER, max(now, opened_at))
    wanted = sorted({int(r["metric"]) for r in readings if r.get("metric") is not None})
    metrics = _all(conn, "SELECT metric_id, name, unit FROM model_metrics WHERE model_id = %s "
                   "ORDER BY metric_id", (model_id,))
    if wanted:
        metrics = [m for m in metrics if m["metric_id"] in wanted]
    series = []
    for m in metrics:
        rows = ingest_queries.series(conn, device, m["metric_id"], start, end)
        if not rows and not wanted:
            continue
        times, values = thin([r[0] for r in rows], [r[1] for r in rows])
        levels = tuple((f"{lim.kind} {lim.value:g} {m['unit']}".strip(), lim.value)
                       for lim in metric_limits(model_id, m["name"]))
        series.append(Series(m["name"], m["unit"], times, values, levels))
        if len(series) == most and not wanted:
            break
    return svg(series, start=start.timestamp(), end=end.timestamp(),
               detected=opened_at.timestamp() if mark else None, title=title, tz=tz)


def job_detail(conn: psycopg.Connection, incident_id: str, *, visit_id: int | None = None,
               now: datetime, tz: str = "UTC") -> dict[str, Any] | None:
    """The job of an incident: visit, decision, incident, device, customer, catalog entry,
    self-help history, emails and the customer's answers, and the telemetry chart."""
    visit = dispatch_queries.job_visit(conn, incident_id, visit_id)
    decisions = dispatch_queries.decisions(conn, incident_id)
    incident = rules_queries.incident_row(conn, incident_id)
    if visit is None and not decisions and incident is None:
        return None
    device_id = next((d["device_id"] for d in decisions if d["device_id"]), None)
    device = _one(conn, """SELECT d.*, m.name AS model_name, m.kind AS model_kind
                           FROM devices d JOIN models m ON m.model_id = d.model_id
                           WHERE d.id = %s OR d.device_id = %s LIMIT 1""",
                  (incident["device"] if incident else None, device_id))
    customer = household = None
    if device and device.get("household_id"):
        household = _one(conn, "SELECT * FROM households WHERE household_id = %s",
                         (device["household_id"],))
    cid = (household or {}).get("customer_id") or (visit or {}).get("customer_id") or next(
        (d["customer_id"] for d in decisions if d["customer_id"]), None)
    if cid:
        customer = _one(conn, "SELECT * FROM customers WHERE customer_id = %s", (cid,))
    fault = (incident or {}).get("fault") or next(
        (d["fault_code"] for d in decisions if d["fault_code"]), "")
    entry = None
    if device and fault:
        entry = _one(conn, """
            SELECT e.code, e.severity, e.customer_fixable, e.urgent, e.skill, e.parts,
                   e.visit_minutes, coalesce(t.title, e.title) AS title,
                   coalesce(t.meaning, e.meaning) AS meaning, coalesce(t.steps, '{}') AS steps
            FROM error_codes e LEFT JOIN error_code_texts t ON t.model_id = e.model_id
                 AND t.code = e.code AND t.language = 'en'
            WHERE e.model_id = %s AND e.code = %s""", (device["model_id"], fault))
    self_help = dispatch_queries.self_help_given(conn, device_id or "", fault)
    emails = dispatch_queries.incident_emails(conn, incident_id)
    subjects = [incident_id] + ([str(visit["id"])] if visit else [])
    answers = dispatch_queries.customer_answers(conn, incident_id, subjects)
    chart_svg = ""
    if incident and device:
        chart_svg = chart(conn, device["id"], device["model_id"], incident["readings"] or [],
                          incident["opened_at"], now=now, tz=tz,
                          title=f"Telemetry of {device['device_id']} around the detection")
    return {"incident_id": incident_id, "visit": visit, "decisions": decisions,
            "incident": incident, "device": device, "household": household,
            "customer": customer, "fault": fault, "entry": entry, "self_help": self_help,
            "emails": emails, "answers": answers, "chart": chart_svg,
            "diagnostics": diagnostics(conn, incident_id, device),
            "number": jobhistory.number(conn, incident_id),
            "history": jobhistory.history(conn, incident_id, tz=tz),
            "remaining": (jobhistory.remaining_life(conn, incident, device)
                          if incident and device else None),
            "hold_expired": bool(visit and hold_expired(visit["state"],
                                                        visit["hold_expires_at"], now=now))}


def diagnostics(conn: psycopg.Connection, incident_id: str, device: dict[str, Any] | None
                ) -> list[dict[str, Any]]:
    """The remote-diagnostics requests of this job: state, why it waits, what was found."""
    from devices.diagnostics import findings, waiting_reason
    from devices.diagnostics_store import device_online, requests_for

    if device is None:
        return []
    online = device_online(conn, device["device_id"])
    return [{"request": r, "kind": r.kind.value, "state": r.state.value,
             "why": waiting_reason(r, online=online), "findings": findings(r)}
            for r in requests_for(conn, incident_id=incident_id, limit=10)]
