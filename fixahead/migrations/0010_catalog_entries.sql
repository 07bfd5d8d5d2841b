-- Full catalog entries (issue 3): metric ranges and periods, code handling (customer-fixable,
-- urgency, skill, parts, visit length), texts per language with numbered self-help steps, and
-- catalog versions per model and firmware range.
ALTER TABLE model_metrics
    ADD COLUMN IF NOT EXISTS typical_min double precision,
    ADD COLUMN IF NOT EXISTS typical_max double precision,
    ADD COLUMN IF NOT EXISTS period_s double precision NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS description text NOT NULL DEFAULT '';

ALTER TABLE error_codes
    ADD COLUMN IF NOT EXISTS customer_fixable boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS urgent boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS skill text NOT NULL DEFAULT 'appliance',
    ADD COLUMN IF NOT EXISTS parts text[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS visit_minutes integer NOT NULL DEFAULT 60,
    ADD COLUMN IF NOT EXISTS since_version text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS until_version text NOT NULL DEFAULT '';

-- One row per code and language; `steps` are the numbered self-help steps in order.
CREATE TABLE IF NOT EXISTS error_code_texts (
    model_id  text NOT NULL,
    code      text NOT NULL,
    language  text NOT NULL,
    title     text NOT NULL,
    meaning   text NOT NULL DEFAULT '',
    steps     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (model_id, code, language),
    FOREIGN KEY (model_id, code) REFERENCES error_codes ON DELETE CASCADE
);

-- A catalog version of a model covers firmware in [firmware_min, firmware_max); '' = open.
CREATE TABLE IF NOT EXISTS model_catalogs (
    model_id      text NOT NULL REFERENCES models ON DELETE CASCADE,
    version       text NOT NULL,
    firmware_min  text NOT NULL,
    firmware_max  text NOT NULL DEFAULT '',
    codes         text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (model_id, version)
);
