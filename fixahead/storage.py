"""TimescaleDB's jobs, checked and driven by the platform, and the hourly rollup's refresh.

TimescaleDB runs compression, retention and the rollup's refresh as background jobs. With some
builds they end "Failed" every time (TimescaleDB 2.28.3 on PostgreSQL 15.20: "cannot drop
portal while it is being set up") while the same job run by `CALL run_job(id)` works, and
nothing else would notice. So the platform reads each job's last success (the background
worker's, or its own) and runs a job itself when none came within the job's schedule interval.
Its runs are recorded in `storage_job_runs`. On plain PostgreSQL there are no jobs and the
rollup is a view: every function here does nothing there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge

from fixahead.migrate import has_timescaledb

log = logging.getLogger(__name__)

Connect = Callable[[], AbstractContextManager[psycopg.Connection]]

ROLLUP = "telemetry_hourly"
_LOCK_KEY = 0x46584A42  # "FXJB": one process drives the jobs at a time
GRACE = timedelta(minutes=2)  # a background run may start this late before we step in


def storage_name(conn: psycopg.Connection) -> str:
    """What the database runs on: "timescaledb 2.28.3" (" apache" for the Apache-only build)
    or "postgresql 15.20"."""
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
                       ).fetchone()
    if row is not None:
        license_ = conn.execute("SELECT current_setting('timescaledb.license', true)"
                                ).fetchone()
        apache = " apache" if license_ and license_[0] == "apache" else ""
        return f"timescaledb {row[0]}{apache}"
    version = conn.execute("SHOW server_version").fetchone()
    return f"postgresql {str(version[0]).split()[0] if version else '?'}"


@dataclass(frozen=True)
class Job:
    """One TimescaleDB policy job with its background stats and the platform's own runs."""

    id: int
    kind: str  # compression, retention or refresh
    relation: str  # the hypertable or continuous aggregate it works on
    schedule_interval: timedelta
    scheduled: bool
    background_status: str | None  # Success / Failed of the background worker's last run
    background_success: datetime | None
    background_failures: int
    driven_at: datetime | None  # the platform's last run_job
    driven_ok: bool | None
    driven_error: str | None

    @property
    def last_success(self) -> datetime | None:
        """The later of the background worker's last success and the platform's."""
        times = [t for t in (self.background_success,
                             self.driven_at if self.driven_ok else None) if t is not None]
        return max(times) if times else None

    def due(self, now: datetime, grace: timedelta = GRACE) -> bool:
        """Scheduled, and no run succeeded within its interval (plus `grace`)."""
        last = self.last_success
        return self.scheduled and (last is None or now - last >= self.schedule_interval + grace)

    def healthy(self, now: datetime, grace: timedelta = GRACE) -> bool:
        """A run succeeded within twice its interval: the policy is being applied."""
        last = self.last_success
        return last is not None and now - last < 2 * self.schedule_interval + grace


_KINDS = {"policy_compression": "compression", "policy_retention": "retention",
          "policy_refresh_continuous_aggregate": "refresh"}

_JOBS_SQL = """
SELECT j.job_id, j.proc_name, coalesce(ca.view_name, j.hypertable_name), j.schedule_interval,
       j.scheduled, s.last_run_status, nullif(s.last_successful_finish, '-infinity'),
       coalesce(s.total_failures, 0),
       r.driven_at, r.ok, r.error
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
LEFT JOIN timescaledb_information.continuous_aggregates ca
       ON ca.materialization_hypertable_name = j.hypertable_name
LEFT JOIN storage_job_runs r ON r.job_id = j.job_id
WHERE j.proc_name = ANY(%s)
ORDER BY j.job_id"""


def list_jobs(conn: psycopg.Connection) -> list[Job]:
    """The platform's TimescaleDB policy jobs (none on plain PostgreSQL)."""
    if not has_timescaledb(conn):
        return []
    rows = conn.execute(_JOBS_SQL, (list(_KINDS),)).fetchall()
    return [Job(r[0], _KINDS[r[1]], r[2], r[3], r[4], r[5], r[6], int(r[7]), r[8], r[9], r[10])
            for r in rows]


@dataclass(frozen=True)
class Run:
    """One job the platform ran."""

    job: Job
    ok: bool
    seconds: float
    error: str | None


def db_now(conn: psycopg.Connection) -> datetime:
    """The database's clock, the one TimescaleDB schedules by."""
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def run_job(conn: psycopg.Connection, job: Job) -> Run:
    """`CALL run_job(id)` on an autocommit connection and record the outcome."""
    started = time.monotonic()
    error = None
    try:
        conn.execute("CALL run_job(%s)", (job.id,))
    except psycopg.Error as e:
        error = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    seconds = time.monotonic() - started
    conn.execute(
        """INSERT INTO storage_job_runs (job_id, driven_at, ok, seconds, error, runs, failures)
           VALUES (%s, now(), %s, %s, %s, 1, (NOT %s)::int)
           ON CONFLICT (job_id) DO UPDATE SET driven_at = now(), ok = EXCLUDED.ok,
               seconds = EXCLUDED.seconds, error = EXCLUDED.error,
               runs = storage_job_runs.runs + 1,
               failures = storage_job_runs.failures + (NOT EXCLUDED.ok)::int""",
        (job.id, error is None, seconds, error, error is None))
    if error is None:
        log.info("ran TimescaleDB %s job %d on %s in %.1f s", job.kind, job.id, job.relation,
                 seconds)
    else:
        log.warning("TimescaleDB %s job %d on %s failed: %s", job.kind, job.id, job.relation,
                    error)
    return Run(job, error is None, seconds, error)


def drive_due_jobs(conn: psycopg.Connection, *, grace: timedelta = GRACE,
                   now: datetime | None = None) -> list[Run] | None:
    """Run every job that is due at `now` (default: the database's clock) because background
    runs are missing or failing; None when another process holds the drive lock. `conn` must
    be in autocommit mode (the jobs commit as they go)."""
    if not has_timescaledb(conn):
        return []
    locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()
    if not locked or not locked[0]:
        return None
    try:
        now = now or db_now(conn)
        return [run_job(conn, job) for job in list_jobs(conn) if job.due(now, grace)]
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def refresh_rollup(conn: psycopg.Connection, start: datetime | None = None,
                   end: datetime | None = None) -> bool:
    """Materialize the hourly rollup over [start, end) (None: open) after a bulk load;
    False where it is a plain view. `conn` must be in autocommit mode."""
    if not has_timescaledb(conn):
        return False
    found = conn.execute("SELECT 1 FROM timescaledb_information.continuous_aggregates "
                         "WHERE view_name = %s", (ROLLUP,)).fetchone()
    if found is None:
        return False
    conn.execute("CALL refresh_continuous_aggregate(%s, %s::timestamptz, %s::timestamptz)",
                 (ROLLUP, start, end))
    return True


class StorageJobMetrics:
    """Job health as Prometheus metrics, labelled by job id, kind and relation."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("job", "kind", "relation")
        self.age = Gauge("fixahead_storage_job_last_success_age_seconds",
                         "Seconds since the job last succeeded (background or platform run); "
                         "-1 never", labels, registry=registry)
        self.healthy = Gauge("fixahead_storage_job_healthy",
                             "1 when the job succeeded within twice its interval",
                             labels, registry=registry)
        self.background_failures = Gauge(
            "fixahead_storage_job_background_failures",
            "Failed background runs (TimescaleDB job_stats)", labels, registry=registry)
        self.driven = Counter("fixahead_storage_job_platform_runs",
                              "Jobs the platform ran itself, by outcome", ("kind", "outcome"),
                              registry=registry)

    def observe(self, jobs: list[Job], now: datetime, runs: list[Run]) -> None:
        """Set the gauges from `jobs` and count `runs`."""
        for gauge in (self.age, self.healthy, self.background_failures):
            gauge.clear()  # a dropped job's series goes away
        for job in jobs:
            key = (str(job.id), job.kind, job.relation)
            last = job.last_success
            self.age.labels(*key).set(-1 if last is None else (now - last).total_seconds())
            self.healthy.labels(*key).set(1 if job.healthy(now) else 0)
            self.background_failures.labels(*key).set(job.background_failures)
        for run in runs:
            self.driven.labels(run.job.kind, "ok" if run.ok else "failed").inc()


def check_storage_jobs(connect: Connect, metrics: StorageJobMetrics | None = None) -> list[Run]:
    """The scheduled check: drive the due jobs, then publish every job's health."""
    with connect() as conn:
        runs = drive_due_jobs(conn) or []
        if metrics is not None:
            metrics.observe(list_jobs(conn), db_now(conn), runs)
    return runs
