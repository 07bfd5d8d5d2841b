-- Incidents: one row per device and fault episode. The key is derived from event time
-- (device:fault:opened_ms), so replays write the same rows; `version` only moves forward, so
-- a stale writer cannot undo a newer state. At most one open incident per (device, fault),
-- enforced by a partial unique index that concurrent workers cannot both get past.
CREATE TABLE IF NOT EXISTS incidents (
    key         text PRIMARY KEY,
    device      integer NOT NULL,
    fault       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('prediction', 'confirmation', 'error')),
    severity    text NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
    action      text NOT NULL CHECK (action IN ('self_help', 'technician')),
    title       text NOT NULL,
    state       text NOT NULL
                CHECK (state IN ('open', 'updated', 'acknowledged', 'resolved', 'auto_cleared')),
    opened_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    closed_at   timestamptz,
    sources     text[] NOT NULL DEFAULT '{}',
    flaps       integer NOT NULL DEFAULT 0,
    version     integer NOT NULL DEFAULT 1,
    readings    jsonb NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_one_open_per_fault ON incidents (device, fault)
    WHERE state IN ('open', 'updated', 'acknowledged');
CREATE INDEX IF NOT EXISTS incidents_state ON incidents (state, updated_at DESC);
CREATE INDEX IF NOT EXISTS incidents_device ON incidents (device, opened_at DESC);

-- Every change of every incident, in order: what dispatch consumes (by id) and the audit trail.
CREATE TABLE IF NOT EXISTS incident_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         text NOT NULL REFERENCES incidents ON DELETE CASCADE,
    version     integer NOT NULL,
    change      text NOT NULL,
    at          timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (key, version)
);

-- Snoozes and maintenance windows: evidence for a device (or one fault) is muted inside them.
CREATE TABLE IF NOT EXISTS incident_mutes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device      integer NOT NULL,
    fault       text,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    reason      text NOT NULL CHECK (reason IN ('snooze', 'maintenance')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS incident_mutes_device ON incident_mutes (device, ends_at);
