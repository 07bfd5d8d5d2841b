-- What people ask of incidents (acknowledge, resolve, snooze), as commands the rule engine
-- applies: rules owns `incidents`, and the worker holding the device applies the command to its
-- in-memory book and writes the result, so a person's resolve is never undone by the engine's
-- next write. With no rule worker holding a lease, the command is applied at once by
-- `rules.commandstore.submit` (whoever takes a partition over loads incidents from the table).
CREATE TABLE IF NOT EXISTS incident_commands (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         text NOT NULL REFERENCES incidents ON DELETE CASCADE,
    device      integer NOT NULL,
    fault       text NOT NULL,
    command     text NOT NULL CHECK (command IN ('acknowledge', 'resolve', 'snooze')),
    at          timestamptz NOT NULL,
    until       timestamptz,
    actor       text NOT NULL,
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied', 'refused')),
    reason      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    applied_at  timestamptz
);
CREATE INDEX IF NOT EXISTS incident_commands_pending ON incident_commands (device)
    WHERE state = 'pending';
