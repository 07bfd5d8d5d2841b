-- TimescaleDB jobs the platform ran itself (`CALL run_job`) because their background runs
-- failed or did not come (fixahead/storage.py); one row per job, its last run and totals.
-- Created on plain PostgreSQL too, where it stays empty.
CREATE TABLE IF NOT EXISTS storage_job_runs (
    job_id    integer PRIMARY KEY,
    driven_at timestamptz NOT NULL,
    ok        boolean NOT NULL,
    seconds   double precision NOT NULL,
    error     text,
    runs      bigint NOT NULL,
    failures  bigint NOT NULL
);
