-- Remote diagnostics (issue 9): requests sent to a device over MQTT and the replies matched to
-- them, linked to an incident and/or a visit; replies that matched nothing are kept with why.
CREATE TABLE IF NOT EXISTS diagnostic_requests (
    request_id   text PRIMARY KEY CHECK (request_id ~ '^[A-Za-z0-9_-]{8,64}$'),
    device_id    text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('diagnostics_snapshot', 'self_test')),
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sent', 'acknowledged', 'answered', 'expired')),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL CHECK (expires_at > created_at),
    sent_at      timestamptz,
    acked_at     timestamptz,
    answered_at  timestamptz,
    status       text,
    result       jsonb,
    incident_id  text,
    visit_id     bigint,
    requested_by text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS diagnostic_requests_open ON diagnostic_requests (device_id)
    WHERE state IN ('pending', 'sent', 'acknowledged');
CREATE INDEX IF NOT EXISTS diagnostic_requests_incident ON diagnostic_requests (incident_id)
    WHERE incident_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS diagnostic_requests_visit ON diagnostic_requests (visit_id)
    WHERE visit_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS diagnostic_refusals (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   text NOT NULL,
    request_id  text,
    reason      text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    payload     bytea NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS diagnostic_refusals_device ON diagnostic_refusals (device_id, at);
