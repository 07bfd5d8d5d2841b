-- The storm guard (dispatch): an opening waits here before dispatch decides on it. Many
-- devices opening one code at once become one fleet incident for operators; the device
-- incidents are linked to it and their emails held until an operator releases them or the
-- episode clears (then they are dropped). A platform-wide cap on proactive emails per hour
-- holds the excess ('capped') until the hour allows it.
CREATE TABLE IF NOT EXISTS fleet_incidents (
    key        text PRIMARY KEY,          -- fleet:<model>:<code>:<first opening ms>
    model_id   text NOT NULL,
    fault      text NOT NULL,
    opened_at  timestamptz NOT NULL,
    last_at    timestamptz NOT NULL,
    devices    integer NOT NULL DEFAULT 0,
    state      text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'released', 'cleared')),
    closed_at  timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS fleet_incidents_one_open ON fleet_incidents (model_id, fault)
    WHERE state = 'open';

CREATE TABLE IF NOT EXISTS dispatch_holds (
    incident_id text PRIMARY KEY,
    device_id   text NOT NULL,
    model_id    text NOT NULL,
    fault       text NOT NULL,
    at          timestamptz NOT NULL,     -- the incident's event time
    state       text NOT NULL DEFAULT 'settling'
                CHECK (state IN ('settling', 'storm', 'capped', 'dispatched', 'dropped')),
    fleet_key   text REFERENCES fleet_incidents,
    decided_at  timestamptz
);
CREATE INDEX IF NOT EXISTS dispatch_holds_state ON dispatch_holds (state, at);
CREATE INDEX IF NOT EXISTS dispatch_holds_decided ON dispatch_holds (decided_at)
    WHERE state = 'dispatched';
