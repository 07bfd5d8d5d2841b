-- The web dispatch board (issue 7): people who log in, their sessions, what technicians report
-- about a job (start, outcome: what was really wrong, for each rule's precision), and a
-- NOTIFY on every visit change so every web process can push live updates to its boards.
CREATE TABLE IF NOT EXISTS web_users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'scheduler', 'viewer')),
    password_hash  text NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS web_users_email ON web_users (lower(email));

-- A session is found by the SHA-256 of its random id (the cookie holds the id, signed).
CREATE TABLE IF NOT EXISTS web_sessions (
    id_hash     text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES web_users ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions (user_id);

-- What happened on site. `outcome` says whether the predicted fault was really there:
-- confirmed | other_fault (actual_code says which) | no_fault_found | cannot_complete.
CREATE TABLE IF NOT EXISTS visit_work (
    visit_id     bigint PRIMARY KEY REFERENCES visits ON DELETE CASCADE,
    incident_id  text NOT NULL,
    started_at   timestamptz,
    finished_at  timestamptz,
    outcome      text CHECK (outcome IN ('confirmed', 'other_fault', 'no_fault_found',
                                         'cannot_complete')),
    actual_code  text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    actor        text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS visit_work_incident ON visit_work (incident_id);

-- Precision of each rule (or error-code source) from what technicians found.
CREATE OR REPLACE VIEW rule_precision AS
SELECT src AS source, i.fault,
       count(*) FILTER (WHERE w.outcome = 'confirmed') AS confirmed,
       count(*) FILTER (WHERE w.outcome IN ('other_fault', 'no_fault_found')) AS wrong,
       count(*) FILTER (WHERE w.outcome IN ('confirmed', 'other_fault', 'no_fault_found'))
           AS judged,
       (count(*) FILTER (WHERE w.outcome = 'confirmed'))::float8
         / nullif(count(*) FILTER (WHERE w.outcome IN ('confirmed', 'other_fault',
                                                        'no_fault_found')), 0) AS precision
FROM visit_work w
JOIN incidents i ON i.key = w.incident_id
CROSS JOIN LATERAL unnest(i.sources) AS src
GROUP BY src, i.fault;

CREATE INDEX IF NOT EXISTS visits_board ON visits (starts_at)
    WHERE state IN ('held', 'booked', 'done');

-- Live board updates: any process that changes a visit tells every listener.
CREATE OR REPLACE FUNCTION fixahead_notify_visit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fixahead_visits', json_build_object(
        'id', NEW.id, 'technician_id', NEW.technician_id, 'state', NEW.state,
        'incident_id', NEW.incident_id, 'starts_at', NEW.starts_at, 'op', TG_OP)::text);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS visits_notify ON visits;
CREATE TRIGGER visits_notify AFTER INSERT OR UPDATE ON visits
    FOR EACH ROW EXECUTE FUNCTION fixahead_notify_visit();
