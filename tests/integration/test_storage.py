"""Storage on both paths: the hourly rollup reads the same on TimescaleDB and plain PostgreSQL,
and TimescaleDB's jobs are checked and, where their background runs do not come, run by the
platform. CI runs this file on both (.ci/run)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from fixahead.cli import _register_areas, app
from fixahead.migrate import has_timescaledb
from fixahead.settings import Settings
from fixahead.storage import (
    StorageJobMetrics,
    check_storage_jobs,
    db_now,
    drive_due_jobs,
    list_jobs,
    refresh_rollup,
    storage_name,
)
from tests.support.cli import invoke

pytestmark = pytest.mark.integration

_register_areas()

FAR = timedelta(days=365)  # a clock by which every job is overdue


def _rollup(conn: psycopg.Connection) -> list[tuple[datetime, int, float, float, float]]:
    return conn.execute("SELECT bucket, n, avg, min, max FROM telemetry_hourly "
                        "WHERE device = 1 ORDER BY bucket").fetchall()


def _insert(conn: psycopg.Connection, rows: list[tuple[datetime, float]]) -> None:
    with conn.cursor().copy("COPY telemetry (time, device, metric, value) FROM STDIN") as copy:
        for at, value in rows:
            copy.write_row((at, 1, 1, value))


def _timescaledb(conn: psycopg.Connection) -> None:
    if not has_timescaledb(conn):
        pytest.skip("needs TimescaleDB: point FIXAHEAD_TEST_DATABASE_URL at a server with "
                    "timescaledb preloaded (.ci/run starts one from ../shared/vendor)")


def test_hourly_rollup_reads_the_same_before_and_after_refreshes(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        now = db_now(conn)
        old = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=20)
        new = now.replace(minute=0, second=0, microsecond=0)
        _insert(conn, [(old + timedelta(minutes=5), 2.0), (old + timedelta(minutes=55), 4.0),
                       (new, 9.0)])
        first = [(old, 2, 3.0, 2.0, 4.0), (new, 1, 9.0, 9.0, 9.0)]
        assert _rollup(conn) == first  # nothing materialized yet: all computed on read

        drive_due_jobs(conn, now=now + FAR)  # TimescaleDB: compress, retain, refresh
        assert _rollup(conn) == first  # old buckets materialized, the current hour live

        # a bulk load into old, materialized (and compressed) hours, and the current hour
        _insert(conn, [(old + timedelta(minutes=30), 6.0), (old + timedelta(hours=1), 1.0),
                       (new + timedelta(seconds=1), 3.0)])
        refresh_rollup(conn, old, None)
        assert _rollup(conn) == [(old, 3, 4.0, 2.0, 6.0),
                                 (old + timedelta(hours=1), 1, 1.0, 1.0, 1.0),
                                 (new, 2, 6.0, 3.0, 9.0)]


def test_platform_runs_jobs_whose_background_runs_do_not_come(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        _timescaledb(conn)
        for job in list_jobs(conn):  # hold the background worker off: only we run them
            conn.execute("SELECT alter_job(%s, next_start => now() + INTERVAL '1 year')",
                         (job.id,))
        now = db_now(conn)
        _insert(conn, [(now - timedelta(days=10), 1.0), (now - timedelta(days=500), 2.0)])
        jobs = list_jobs(conn)
        assert sorted(j.kind for j in jobs) == ["compression", "refresh", "retention"]
        assert {j.relation for j in jobs} == {"telemetry", "telemetry_hourly"}
        window = conn.execute(
            "SELECT (config->>'start_offset')::interval FROM timescaledb_information.jobs "
            "WHERE proc_name = 'policy_refresh_continuous_aggregate'").fetchone()
        assert window is not None and window[0] >= timedelta(seconds=Settings().max_past_age_s)

        runs = drive_due_jobs(conn, now=now + FAR)
        assert runs is not None and [r.error for r in runs] == [None, None, None]
        assert drive_due_jobs(conn) == []  # each just succeeded: none is due again
        compressed = conn.execute(
            "SELECT count(*) FILTER (WHERE is_compressed), count(*) "
            "FROM timescaledb_information.chunks WHERE hypertable_name = 'telemetry'").fetchone()
        assert compressed == (1, 1)  # the 10-day-old chunk compressed, the 500-day one dropped
        assert [r[1:] for r in _rollup(conn)] == [(1, 1.0, 1.0, 1.0)]
        assert all(j.healthy(db_now(conn)) and j.driven_ok for j in list_jobs(conn))


def test_job_health_is_published_as_metrics(database_url):
    registry = CollectorRegistry()
    metrics = StorageJobMetrics(registry)
    with psycopg.connect(database_url, autocommit=True) as conn:
        timescale = has_timescaledb(conn)

    def connect():  # type: ignore[no-untyped-def]
        return psycopg.connect(database_url, autocommit=True)

    runs = check_storage_jobs(connect, metrics)
    healthy = {s.labels["kind"]: s.value for m in registry.collect() for s in m.samples
               if s.name == "fixahead_storage_job_healthy"}
    if timescale:  # fresh jobs: what the background did not run, the platform ran
        assert all(r.ok for r in runs)
        assert healthy == {"compression": 1.0, "retention": 1.0, "refresh": 1.0}
    else:  # plain PostgreSQL has no jobs to run or report
        assert runs == [] and healthy == {}


def test_db_jobs_command_shows_storage_and_job_health(database_url):
    env = {"FIXAHEAD_DATABASE_URL": database_url, "FIXAHEAD_LOG_LEVEL": "WARNING"}
    code, out = invoke(app, ["db", "jobs", "--run", "--json"], env)
    assert code == 0, out
    doc = json.loads(out)
    with psycopg.connect(database_url) as conn:
        assert doc["storage"] == storage_name(conn)
        timescale = has_timescaledb(conn)
    if timescale:
        assert doc["storage"].startswith("timescaledb 2.")
        assert sorted(j["kind"] for j in doc["jobs"]) == ["compression", "refresh", "retention"]
        assert all(j["healthy"] and j["platform_run_ok"] for j in doc["jobs"])
    else:
        assert doc["storage"].startswith("postgresql ") and doc["jobs"] == []
    code, out = invoke(app, ["db", "jobs"], env)
    assert code == 0 and f"storage: {doc['storage']}" in out
