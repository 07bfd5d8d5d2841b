-- Use TimescaleDB when the server offers it (installed and preloaded); otherwise every later
-- migration takes its plain-PostgreSQL branch. Each TimescaleDB call sits in a DO block that
-- checks pg_extension, so one set of files serves both.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
       AND current_setting('shared_preload_libraries') LIKE '%timescaledb%' THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    END IF;
END
$$;
