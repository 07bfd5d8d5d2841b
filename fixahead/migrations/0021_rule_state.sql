-- Rule workers: devices are split into partitions (device % partitions); a worker owns a
-- partition while its lease is fresh. `epoch` grows at every change of owner and fences
-- checkpoints: a worker whose lease was taken over cannot overwrite the new owner's state.
CREATE TABLE IF NOT EXISTS rule_partitions (
    part        integer PRIMARY KEY,
    owner       text NOT NULL,
    epoch       bigint NOT NULL DEFAULT 1,
    lease_until timestamptz NOT NULL
);

-- Per-device rule state checkpoints (the engine's state row as bytes), written with the
-- partition epoch that wrote them; `layout` names the compiled rule layout they belong to.
CREATE TABLE IF NOT EXISTS rule_state (
    device      integer PRIMARY KEY,
    part        integer NOT NULL,
    layout      text NOT NULL,
    state       bytea NOT NULL,
    event_ms    bigint NOT NULL,
    epoch       bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rule_state_part ON rule_state (part);
