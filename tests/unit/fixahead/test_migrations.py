"""Migration files are found, named and ordered as the runner expects."""

from __future__ import annotations

from fixahead.migrate import load_migrations


def test_migrations_are_ordered_and_unique():
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(set(versions))
    assert versions[:4] == [0, 1, 2, 3]


def test_timescaledb_calls_are_guarded_by_an_extension_check():
    for m in load_migrations():
        for call in ("create_hypertable", "add_compression_policy", "add_retention_policy",
                     "add_continuous_aggregate_policy", "remove_continuous_aggregate_policy"):
            if call in m.sql:
                assert "pg_extension" in m.sql, f"{m.name} calls {call} without a guard"
