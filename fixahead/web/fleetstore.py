"""Fleet figures for the overview page (adapter): devices online, incidents over time, each
rule's precision (rules' incidents with what dispatch heard of them)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dispatch.queries import incident_verdicts
from rules import queries
from rules.precision import per_source_fault


def overview(conn: psycopg.Connection, *, now: datetime, days: int) -> dict[str, Any]:
    """Devices and online devices per model; incidents opened per (model, fault) and day."""
    with conn.cursor(row_factory=dict_row) as cur:
        models = cur.execute(
            """SELECT m.model_id, m.name, m.kind, count(d.id) AS devices,
                      count(d.id) FILTER (WHERE d.online) AS online,
                      count(d.id) FILTER (WHERE d.state = 'revoked') AS revoked
               FROM models m LEFT JOIN devices d ON d.model_id = m.model_id
               GROUP BY m.model_id ORDER BY m.model_id""").fetchall()
        since = (now - timedelta(days=days - 1)).date()
        rows = queries.opened_per_day(conn, since)
        open_now = queries.open_count(conn)
    precision = sorted(rule_precision(conn),
                       key=lambda r: (-r["judged"], r["source"], r["fault"]))[:50]
    day_list = [since + timedelta(days=i) for i in range(days)]
    table: dict[tuple[str, str], dict[date, int]] = {}
    for r in rows:
        table.setdefault((r["model_id"], r["fault"]), {})[r["day"]] = int(r["n"])
    series: list[dict[str, Any]] = [
        {"model_id": m, "fault": f, "counts": [by_day.get(d, 0) for d in day_list],
         "total": sum(by_day.values())} for (m, f), by_day in sorted(table.items())]
    peak = max((c for s in series for c in s["counts"]), default=0)
    return {"models": models, "day_list": day_list, "series": series, "peak": max(peak, 1),
            "devices": sum(m["devices"] for m in models),
            "online": sum(m["online"] for m in models),
            "open_incidents": open_now, "precision": precision}


def rule_precision(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Per rule (or other source) and fault, by source and fault: the visits technicians
    confirmed or refuted and the precision, beside the customers' answers
    (`rules.precision.per_source_fault` over `dispatch.queries.incident_verdicts` and the
    judged incidents' faults and sources from rules: three queries in all)."""
    verdicts = incident_verdicts(conn)
    return per_source_fault(queries.fault_sources(conn, list(verdicts)), verdicts)
