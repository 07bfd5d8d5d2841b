-- When the platform was listening (trusted time: the wall clock in production, the
-- simulation's own clock in a scenario): ingest connected, caught up and committing, and
-- the rules worker current. Each source (an ingest worker, the single process) extends its
-- current interval while healthy and starts a new one after a gap; time outside every
-- interval is not listened time, and the rules judge silence only over listened time.
CREATE TABLE IF NOT EXISTS platform_listening (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source     text NOT NULL,
    started_at timestamptz NOT NULL,
    until_at   timestamptz NOT NULL,
    CHECK (until_at >= started_at)
);
CREATE INDEX IF NOT EXISTS platform_listening_until ON platform_listening (until_at);
