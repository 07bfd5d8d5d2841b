-- What customers tell dispatch through their links (issue 6): "I fixed it" per incident.
CREATE TABLE IF NOT EXISTS customer_feedback (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id  text NOT NULL,
    customer_id  text NOT NULL DEFAULT '',
    kind         text NOT NULL CHECK (kind IN ('fixed')),
    at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (incident_id, kind)
);
