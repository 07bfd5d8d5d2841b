-- The customer's last mile (issue 17): the catalog's safety advice per code and language; one
-- row per incident's appointment, holding the calendar entry the customer has (its SEQUENCE)
-- and what they were last told (locking it serialises every change of the incident's visits);
-- "still broken" as customer feedback next to "fixed".
ALTER TABLE error_code_texts ADD COLUMN IF NOT EXISTS safety text NOT NULL DEFAULT '';

CREATE TABLE IF NOT EXISTS appointments (
    incident_id     text PRIMARY KEY,
    customer_id     text NOT NULL DEFAULT '',
    sequence        integer NOT NULL DEFAULT 0,
    told_visit_id   bigint,
    told_state      text NOT NULL DEFAULT '',
    told_starts_at  timestamptz,
    told_technician_id bigint,
    note            text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE appointments ADD COLUMN IF NOT EXISTS told_technician_id bigint;

ALTER TABLE customer_feedback DROP CONSTRAINT IF EXISTS customer_feedback_kind_check;
ALTER TABLE customer_feedback ADD CONSTRAINT customer_feedback_kind_check
    CHECK (kind IN ('fixed', 'still_broken'));
