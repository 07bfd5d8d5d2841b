"""Prometheus metrics of an ingest worker, on a registry the caller owns."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    """Counters and histograms for one worker."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "fixahead_ingest_received_messages", "Messages received from the broker", registry=r
        )
        self.stored_messages = Counter(
            "fixahead_ingest_stored_messages", "Messages committed (telemetry and events)",
            registry=r,
        )
        self.stored_rows = Counter(
            "fixahead_ingest_stored_rows", "Telemetry rows committed", registry=r
        )
        self.stored_events = Counter(
            "fixahead_ingest_stored_events", "Events committed", registry=r
        )
        self.duplicates = Counter(
            "fixahead_ingest_duplicate_messages", "Redelivered messages skipped", registry=r
        )
        self.dead_letters = Counter(
            "fixahead_ingest_dead_letters", "Messages dead-lettered", ["reason"], registry=r
        )
        self.acl_denials = Counter(
            "fixahead_ingest_acl_denials",
            "Requests the broker refused devices (as its notices report them)", ["access"],
            registry=r,
        )
        self.batch_messages = Histogram(
            "fixahead_ingest_batch_messages", "Messages per committed batch",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000), registry=r,
        )
        self.commit_seconds = Histogram(
            "fixahead_ingest_commit_seconds", "Time to write and commit one batch",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5), registry=r,
        )
        self.lag_seconds = Gauge(
            "fixahead_ingest_lag_seconds",
            "Receive-to-commit delay of the oldest message of the last batch", registry=r,
        )
        self.db_errors = Counter(
            "fixahead_ingest_db_errors", "Failed batch writes (retried)", registry=r
        )
        self.pending = Gauge(
            "fixahead_ingest_pending_messages", "Received, not yet committed", registry=r
        )
