"""When a TimescaleDB job is due for the platform to run, and when it counts as healthy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from fixahead.storage import Job, Run, StorageJobMetrics

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def job(background: datetime | None = None, driven: datetime | None = None,
        driven_ok: bool | None = None, scheduled: bool = True) -> Job:
    return Job(1000, "compression", "telemetry", 12 * HOUR, scheduled,
               "Failed" if background is None else "Success", background, 3, driven,
               driven_ok, None if driven_ok in (None, True) else "boom")


def test_a_job_that_never_succeeded_is_due_and_unhealthy():
    assert job().due(NOW) and not job().healthy(NOW)


def test_a_recent_background_success_leaves_the_job_to_timescaledb():
    recent = job(background=NOW - 11 * HOUR)
    assert not recent.due(NOW) and recent.healthy(NOW)


def test_the_platforms_own_success_counts_and_its_failure_does_not():
    assert not job(driven=NOW - HOUR, driven_ok=True).due(NOW)
    assert job(driven=NOW - HOUR, driven_ok=False).due(NOW)
    late = job(background=NOW - 13 * HOUR, driven=NOW - HOUR, driven_ok=True)
    assert late.last_success == NOW - HOUR


def test_a_paused_job_is_never_run_by_the_platform():
    assert not job(scheduled=False).due(NOW)


def test_missing_success_for_two_intervals_is_unhealthy():
    assert job(background=NOW - 23 * HOUR).healthy(NOW)
    assert not job(background=NOW - 25 * HOUR).healthy(NOW)


def test_metrics_show_age_health_failures_and_platform_runs():
    registry = CollectorRegistry()
    metrics = StorageJobMetrics(registry)
    j = job(driven=NOW - HOUR, driven_ok=True)
    metrics.observe([j], NOW, [Run(j, True, 0.5, None)])
    got = {(s.name, s.labels.get("outcome", "")): s.value
           for m in registry.collect() for s in m.samples}
    assert got[("fixahead_storage_job_last_success_age_seconds", "")] == 3600
    assert got[("fixahead_storage_job_healthy", "")] == 1
    assert got[("fixahead_storage_job_background_failures", "")] == 3
    assert got[("fixahead_storage_job_platform_runs_total", "ok")] == 1
    metrics.observe([], NOW, [])  # a dropped job's series go away
    assert not [s for m in registry.collect() for s in m.samples
                if s.name == "fixahead_storage_job_healthy"]
