-- Telemetry: one narrow row per sample. TimescaleDB: a hypertable with one-day chunks and no
-- default time index (it halved COPY speed when measured); compression, retention and an hourly
-- continuous aggregate where the Timescale-licensed build offers them. Plain PostgreSQL: BRIN on
-- time, a time_bucket() matching TimescaleDB's for fixed widths (origin 2000-01-03), and a view.
CREATE TABLE IF NOT EXISTS telemetry (
    time    timestamptz NOT NULL,
    device  integer NOT NULL,
    metric  smallint NOT NULL,
    value   double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS telemetry_device_metric_time ON telemetry (device, metric, time DESC);

DO $$
DECLARE
    hourly_sql text := $v$
        SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, device, metric,
               count(*) AS n, avg(value) AS avg, min(value) AS min, max(value) AS max
        FROM telemetry GROUP BY 1, 2, 3 $v$;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        PERFORM create_hypertable('telemetry', by_range('time', INTERVAL '1 day'),
                                  if_not_exists => TRUE, create_default_indexes => FALSE);
        IF current_setting('timescaledb.license', true) = 'timescale' THEN
            ALTER TABLE telemetry SET (
                timescaledb.compress,
                timescaledb.compress_segmentby = 'device, metric',
                timescaledb.compress_orderby = 'time DESC');
            PERFORM add_compression_policy('telemetry', INTERVAL '7 days', if_not_exists => TRUE);
            PERFORM add_retention_policy('telemetry', INTERVAL '400 days', if_not_exists => TRUE);
            EXECUTE 'CREATE MATERIALIZED VIEW IF NOT EXISTS telemetry_hourly '
                 || 'WITH (timescaledb.continuous) AS ' || hourly_sql || ' WITH NO DATA';
            PERFORM add_continuous_aggregate_policy('telemetry_hourly',
                start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
                schedule_interval => INTERVAL '30 minutes', if_not_exists => TRUE);
        ELSE
            EXECUTE 'CREATE OR REPLACE VIEW telemetry_hourly AS ' || hourly_sql;
        END IF;
    ELSE
        CREATE INDEX IF NOT EXISTS telemetry_time_brin ON telemetry
            USING brin (time) WITH (pages_per_range = 32);
        CREATE OR REPLACE FUNCTION time_bucket(bucket_width interval, ts timestamptz)
        RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $f$
            SELECT to_timestamp(
                floor((extract(epoch FROM ts) - 946857600) / extract(epoch FROM bucket_width))
                * extract(epoch FROM bucket_width) + 946857600)
        $f$;
        EXECUTE 'CREATE OR REPLACE VIEW telemetry_hourly AS ' || hourly_sql;
    END IF;
END
$$;
