"""Health, readiness and metrics of the web role: on the app itself (`/healthz`, `/readyz`,
`/metrics`) and, with FIXAHEAD_METRICS_PORT, on the web role's own port (base + 4)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from fixahead.health import Check
from fixahead.health import router as health_router


class AdmissionCollector(Collector):
    """The database slots of `fixahead.web.admission`: in use, waited for, refused (503)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        """Read the app's Admission (nothing before the app has started)."""
        admission = getattr(self.app.state, "admission", None)
        if admission is None:
            return
        yield GaugeMetricFamily("fixahead_web_db_slots", "Database slots (the pool's size)",
                                value=admission.slots)
        yield GaugeMetricFamily("fixahead_web_db_waiting",
                                "Requests waiting for a database slot", value=admission.waiting)
        yield CounterMetricFamily("fixahead_web_saturated", "Requests answered 503 because no "
                                  "database slot came free in time", value=admission.refused)


def install_health(app: FastAPI, ready: Check) -> CollectorRegistry:
    """Mount /healthz, /readyz and /metrics on `app`; the registry (for the role's port)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    registry.register(AdmissionCollector(app))
    app.include_router(health_router(registry, ready))
    app.state.metrics_registry = registry
    return registry
