-- Events (error codes and state changes), the dedupe ledger, and dead letters.
CREATE TABLE IF NOT EXISTS events (
    time        timestamptz NOT NULL,
    device      integer NOT NULL,
    seq         bigint NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('error', 'cleared', 'state')),
    code        text,
    state       text,
    title       text,
    severity    text,
    known       boolean NOT NULL DEFAULT true,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_device_time ON events (device, time DESC);
CREATE INDEX IF NOT EXISTS events_unknown ON events (time) WHERE NOT known;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        PERFORM create_hypertable('events', by_range('time', INTERVAL '7 days'),
                                  if_not_exists => TRUE, create_default_indexes => FALSE);
    END IF;
END
$$;

-- One row per accepted message: the dedupe key. Inserted in the batch's transaction before its
-- rows, so a redelivered message finds its key and its rows are skipped.
CREATE TABLE IF NOT EXISTS ingest_messages (
    device      integer NOT NULL,
    seq         bigint NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device, seq)
);
CREATE INDEX IF NOT EXISTS ingest_messages_received ON ingest_messages USING brin (received_at);

CREATE TABLE IF NOT EXISTS dead_letters (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    topic       text NOT NULL,
    device_id   text,
    reason      text NOT NULL,
    detail      text NOT NULL,
    payload     bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_reason ON dead_letters (reason, received_at DESC);
