-- What ingest committed, in commit order, for rule workers running as their own processes.
-- Written in the batch's own transaction (only when a feed is configured), so a batch is in
-- the feed exactly when its rows are stored. Columns are NumPy arrays as raw little-endian
-- bytes: ts_ms int64, device int32, metric int16, value float64; events as JSON.
CREATE TABLE IF NOT EXISTS ingest_feed (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committed_at timestamptz NOT NULL DEFAULT now(),
    n_rows       integer NOT NULL,
    ts_ms        bytea NOT NULL,
    device       bytea NOT NULL,
    metric       bytea NOT NULL,
    value        bytea NOT NULL,
    events       jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS ingest_feed_committed ON ingest_feed USING brin (committed_at);

-- How far each rule partition has consumed the feed; written with the lease epoch so a worker
-- that lost its partition cannot move its successor's position.
CREATE TABLE IF NOT EXISTS feed_positions (
    consumer   text NOT NULL,
    part       integer NOT NULL,
    last_id    bigint NOT NULL,
    epoch      bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, part)
);
