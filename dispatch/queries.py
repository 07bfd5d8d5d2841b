"""What dispatch stored, as others read it: what technicians and customers said about
incidents (adapter).

Dispatch owns `visit_work` and `customer_feedback`; other packages read them only through
functions like these.
"""

from __future__ import annotations

import psycopg


def incident_outcomes(conn: psycopg.Connection) -> dict[str, tuple[list[str], list[str]]]:
    """For each incident anyone judged: the outcome codes technicians recorded on its visits
    and what the customer answered ('fixed', 'still_broken'), by incident key."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for key, code in conn.execute(
            "SELECT incident_id, outcome FROM visit_work WHERE outcome IS NOT NULL"):
        out.setdefault(key, ([], []))[0].append(code)
    for key, kind in conn.execute("SELECT incident_id, kind FROM customer_feedback"):
        out.setdefault(key, ([], []))[1].append(kind)
    return out
