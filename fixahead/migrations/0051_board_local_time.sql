-- A dispatch board schedulers would choose (issue 18): each person's time zone (NULL: the
-- app's default), and a stable job number per incident, so re-dispatching (a new visit row)
-- keeps the number people quote on the phone. Numbers are given by triggers when the first
-- decision that needs a technician or the first visit of an incident is written, so every
-- writer of those tables numbers jobs without knowing about it.
ALTER TABLE web_users ADD COLUMN IF NOT EXISTS time_zone text;

CREATE TABLE IF NOT EXISTS job_numbers (
    incident_id  text PRIMARY KEY,
    number       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO job_numbers (incident_id)
SELECT incident_id FROM (
    SELECT incident_id, min(decided_at) AS first_at FROM dispatch_decisions
    WHERE action IN ('visit', 'urgent', 'wait_for_scheduler') GROUP BY incident_id
    UNION ALL
    SELECT incident_id, min(created_at) FROM visits GROUP BY incident_id) s
GROUP BY incident_id ORDER BY min(first_at), incident_id
ON CONFLICT (incident_id) DO NOTHING;

CREATE OR REPLACE FUNCTION fixahead_number_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_numbers (incident_id) VALUES (NEW.incident_id)
    ON CONFLICT (incident_id) DO NOTHING;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS visits_job_number ON visits;
CREATE TRIGGER visits_job_number AFTER INSERT ON visits
    FOR EACH ROW EXECUTE FUNCTION fixahead_number_job();
DROP TRIGGER IF EXISTS decisions_job_number ON dispatch_decisions;
CREATE TRIGGER decisions_job_number AFTER INSERT ON dispatch_decisions
    FOR EACH ROW WHEN (NEW.action IN ('visit', 'urgent', 'wait_for_scheduler'))
    EXECUTE FUNCTION fixahead_number_job();

-- a move checks the technician's neighbouring jobs (travel) around the new time
CREATE INDEX IF NOT EXISTS visits_technician_start ON visits (technician_id, starts_at)
    WHERE state IN ('held', 'booked');
