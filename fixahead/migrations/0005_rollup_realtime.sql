-- The hourly rollup means on TimescaleDB what it means on plain PostgreSQL (a live view there):
-- real-time aggregation, so buckets not materialized yet are computed from telemetry when read,
-- and a refresh window that reaches back to the retention horizon. A refresh only recomputes
-- buckets whose rows changed since the last one (TimescaleDB logs the changed ranges), so a wide
-- window costs little when nothing old changed, and late rows (ingest accepts them up to
-- FIXAHEAD_MAX_PAST_AGE_S old) and bulk loads of old data are materialized by the next run. The
-- window stays 10 days inside the 400-day retention: a refresh over dropped raw chunks would
-- delete their buckets from the rollup. Bulk loads also refresh their range at once
-- (fixahead/storage.py), so a materialized bucket is never stale for a whole interval.
DO $$
BEGIN
    -- nested: PL/pgSQL plans the whole condition, and plain PostgreSQL has no such view
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        IF EXISTS (SELECT 1 FROM timescaledb_information.continuous_aggregates
                   WHERE view_name = 'telemetry_hourly') THEN
            ALTER MATERIALIZED VIEW telemetry_hourly SET (timescaledb.materialized_only = false);
            PERFORM remove_continuous_aggregate_policy('telemetry_hourly', if_exists => TRUE);
            PERFORM add_continuous_aggregate_policy('telemetry_hourly',
                start_offset => INTERVAL '390 days', end_offset => INTERVAL '1 hour',
                schedule_interval => INTERVAL '30 minutes', if_not_exists => TRUE);
        END IF;
    END IF;
END
$$;
