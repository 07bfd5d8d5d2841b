"""What dispatch stored, as others read it (adapter): what technicians and customers said
about incidents, jobs and their history, technicians, the email outbox.

Dispatch owns these tables; other packages and the entry points (the web, the CLI) read them
only through functions like these, which return plain data (dicts, tuples, numbers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row


def _one(conn: psycopg.Connection, sql: str, args: Any) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, args).fetchone()


def _all(conn: psycopg.Connection, sql: str, args: Any) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, args).fetchall()


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


def incident_verdicts(conn: psycopg.Connection) -> dict[str, dict[str, int]]:
    """For each incident with a visit's work or a customer's answer, by key: how many of its
    visits' work rows there are (`visits`, an outcome or not) and how many technicians
    confirmed (`confirmed`) or refuted (`wrong`: other fault, no fault found); how many
    answers the customer gave (`answers`) and how many said `customer_fixed` or
    `customer_still_broken`. Counted in the database, one row per incident."""
    out: dict[str, dict[str, int]] = {}
    for key, visits, confirmed, wrong in conn.execute(
            """SELECT incident_id, count(*), count(*) FILTER (WHERE outcome = 'confirmed'),
                      count(*) FILTER (WHERE outcome IN ('other_fault', 'no_fault_found'))
               FROM visit_work GROUP BY incident_id"""):
        out[key] = {"visits": visits, "confirmed": confirmed, "wrong": wrong, "answers": 0,
                    "customer_fixed": 0, "customer_still_broken": 0}
    for key, answers, fixed, broken in conn.execute(
            """SELECT incident_id, count(*), count(*) FILTER (WHERE kind = 'fixed'),
                      count(*) FILTER (WHERE kind = 'still_broken')
               FROM customer_feedback GROUP BY incident_id"""):
        row = out.setdefault(key, {"visits": 0, "confirmed": 0, "wrong": 0})
        row.update(answers=answers, customer_fixed=fixed, customer_still_broken=broken)
    return out


# -- jobs (a visit with its technician and its work), as the web's job API and page read them

_JOB = """SELECT v.id, v.incident_id, v.technician_id, t.name AS technician, v.customer_id,
                 v.state, v.urgent, v.starts_at, v.ends_at, v.hold_expires_at, v.skill,
                 v.parts, w.outcome
          FROM visits v JOIN technicians t ON t.id = v.technician_id
          LEFT JOIN visit_work w ON w.visit_id = v.id"""


def jobs(conn: psycopg.Connection, *, after: int, limit: int, state: str | None = None,
         technician_id: int | None = None, incident_id: str | None = None,
         urgent: bool | None = None, starts_from: datetime | None = None,
         starts_until: datetime | None = None) -> list[dict[str, Any]]:
    """Jobs with an id above `after`, in id order, at most `limit`, filtered (each filter
    None: any); `starts_from`/`starts_until` bound the start time (until exclusive)."""
    return _all(conn, _JOB + """ WHERE v.id > %(after)s
                 AND (%(state)s::text IS NULL OR v.state = %(state)s)
                 AND (%(tech)s::bigint IS NULL OR v.technician_id = %(tech)s)
                 AND (%(inc)s::text IS NULL OR v.incident_id = %(inc)s)
                 AND (%(urgent)s::bool IS NULL OR v.urgent = %(urgent)s)
                 AND (%(from)s::timestamptz IS NULL OR v.starts_at >= %(from)s)
                 AND (%(until)s::timestamptz IS NULL OR v.starts_at < %(until)s)
               ORDER BY v.id LIMIT %(limit)s""",
                {"after": after, "state": state, "tech": technician_id, "inc": incident_id,
                 "urgent": urgent, "from": starts_from, "until": starts_until, "limit": limit})


def job(conn: psycopg.Connection, job_id: int) -> dict[str, Any] | None:
    """One job, as `jobs` gives it; None when there is none."""
    return _one(conn, _JOB + " WHERE v.id = %s", (job_id,))


def visit_incident(conn: psycopg.Connection, visit_id: int) -> str | None:
    """The incident a visit is for."""
    row = conn.execute("SELECT incident_id FROM visits WHERE id = %s", (visit_id,)).fetchone()
    return None if row is None else str(row[0])


def job_visit(conn: psycopg.Connection, incident_id: str, visit_id: int | None = None
              ) -> dict[str, Any] | None:
    """A visit with all its columns, its technician's name and skills and its work (started,
    finished, outcome, actual code, reason, who): the visit `visit_id` when given, else the
    incident's current one (held, booked or done before others, newest first)."""
    where = "v.id = %s" if visit_id is not None else "v.incident_id = %s"
    return _one(conn, f"""
        SELECT v.*, t.name AS technician, t.skills AS technician_skills, w.started_at,
               w.finished_at, w.outcome, w.actual_code, w.reason, w.actor AS work_actor
        FROM visits v JOIN technicians t ON t.id = v.technician_id
        LEFT JOIN visit_work w ON w.visit_id = v.id
        WHERE {where}
        ORDER BY (v.state IN ('held', 'booked', 'done')) DESC, v.id DESC LIMIT 1""",
                (visit_id if visit_id is not None else incident_id,))


def decisions(conn: psycopg.Connection, incident_id: str) -> list[dict[str, Any]]:
    """Every decision dispatch took on an incident, all columns, oldest first."""
    return _all(conn, "SELECT * FROM dispatch_decisions WHERE incident_id = %s ORDER BY id",
                (incident_id,))


def self_help_given(conn: psycopg.Connection, device_id: str, fault: str
                    ) -> list[dict[str, Any]]:
    """Self-help decisions for a device (its device_id) and fault, any incident's, oldest
    first: incident_id, decided_at, delivery."""
    return _all(conn, """
        SELECT incident_id, decided_at, delivery FROM dispatch_decisions
        WHERE action = 'self_help' AND device_id = %s AND fault_code = %s ORDER BY decided_at""",
                (device_id, fault))


def incident_emails(conn: psycopg.Connection, incident_id: str) -> list[dict[str, Any]]:
    """Emails about an incident (its own, and digests naming it), oldest first, with payload."""
    return _all(conn, """
        SELECT id, kind, to_addr, state, send_at, sent_at, attempts, last_error, payload
        FROM email_outbox WHERE payload->>'incident_id' = %s OR payload::text LIKE %s
        ORDER BY id""", (incident_id, f'%"{incident_id}"%'))


def customer_answers(conn: psycopg.Connection, incident_id: str, subjects: list[str]
                     ) -> list[dict[str, Any]]:
    """What the customer answered: their link uses on `subjects` (incident and visit ids as
    text) by time, then the feedback recorded on the incident (action, outcome, used_at)."""
    answers = _all(conn, "SELECT action, outcome, used_at FROM link_uses "
                   "WHERE subject = ANY(%s) ORDER BY used_at", (subjects,))
    return answers + _all(conn, "SELECT kind AS action, 'recorded' AS outcome, at AS used_at "
                          "FROM customer_feedback WHERE incident_id = %s", (incident_id,))


def job_number(conn: psycopg.Connection, incident_id: str) -> int | None:
    """The job's number (kept when the job is re-dispatched)."""
    row = conn.execute("SELECT number FROM job_numbers WHERE incident_id = %s",
                       (incident_id,)).fetchone()
    return None if row is None else int(row[0])


def visit_audit(conn: psycopg.Connection, incident_id: str
                ) -> list[tuple[datetime, str, str, str, dict[str, Any]]]:
    """The audit log of an incident's visits, oldest first: (at, actor, action, visit id as
    text, detail)."""
    return conn.execute(
        """SELECT a.at, a.actor, a.action, a.subject_id, a.detail FROM audit_log a
           WHERE a.subject_type = 'visit' AND a.subject_id IN
                 (SELECT id::text FROM visits WHERE incident_id = %s)
           ORDER BY a.id""", (incident_id,)).fetchall()


# -- technicians

_TECHNICIAN = """SELECT id, name, skills, territory, tz,
                        to_char(work_start, 'HH24:MI') AS work_start,
                        to_char(work_end, 'HH24:MI') AS work_end, work_days::int[] AS work_days,
                        active FROM technicians"""


def technician_names(conn: psycopg.Connection) -> dict[int, str]:
    """Every technician's name (active or not), by id."""
    return dict(conn.execute("SELECT id, name FROM technicians").fetchall())


def technicians(conn: psycopg.Connection, *, after: int, limit: int, skill: str | None = None,
                territory: str | None = None, active: bool | None = None
                ) -> list[dict[str, Any]]:
    """Technicians with an id above `after`, in id order, at most `limit`, filtered (None:
    any): id, name, skills, territory, tz, work_start and work_end ('HH:MM'), work_days
    (0=Monday), active."""
    return _all(conn, _TECHNICIAN + """ WHERE id > %(after)s
                 AND (%(skill)s::text IS NULL OR %(skill)s = ANY (skills))
                 AND (%(terr)s::text IS NULL OR territory = %(terr)s)
                 AND (%(active)s::bool IS NULL OR active = %(active)s)
               ORDER BY id LIMIT %(limit)s""",
                {"after": after, "skill": skill, "terr": territory, "active": active,
                 "limit": limit})


def technician(conn: psycopg.Connection, technician_id: int) -> dict[str, Any] | None:
    """One technician, as `technicians` gives them; None when there is none."""
    return _one(conn, _TECHNICIAN + " WHERE id = %s", (technician_id,))


# -- the email outbox

def outbox_counts(conn: psycopg.Connection) -> dict[str, int]:
    """How many emails the outbox holds, by state."""
    return dict(conn.execute("SELECT state, count(*) FROM email_outbox GROUP BY state")
                .fetchall())


def outbox(conn: psycopg.Connection, *, state: str = "", limit: int = 200
           ) -> list[dict[str, Any]]:
    """The newest emails (all, or those in `state`), newest first, without their content."""
    return _all(conn, """SELECT id, kind, customer_id, to_addr, state, send_at, sent_at, attempts,
                      last_error FROM email_outbox WHERE (%(s)s = '' OR state = %(s)s)
               ORDER BY id DESC LIMIT %(limit)s""", {"s": state, "limit": limit})


def outbox_email(conn: psycopg.Connection, outbox_id: int) -> dict[str, Any] | None:
    """One email with all its columns (its payload too); None when there is none."""
    return _one(conn, "SELECT * FROM email_outbox WHERE id = %s", (outbox_id,))
