-- Customers, households, consents and the audit log (issue 3).
-- Personal data lives in `customers` only; every table that refers to a customer or a household
-- does so by a foreign key, so export and erasure can find it (see devices/privacy.py).
CREATE TABLE IF NOT EXISTS customers (
    customer_id      text PRIMARY KEY CHECK (customer_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name             text NOT NULL,
    email            text NOT NULL,
    phone            text NOT NULL DEFAULT '',
    language         text NOT NULL DEFAULT 'en',
    time_zone        text NOT NULL DEFAULT 'UTC',
    street           text NOT NULL DEFAULT '',
    postal_code      text NOT NULL DEFAULT '',
    city             text NOT NULL DEFAULT '',
    country          text NOT NULL DEFAULT '',
    lat              double precision CHECK (lat BETWEEN -90 AND 90),
    lon              double precision CHECK (lon BETWEEN -180 AND 180),
    preferred_channel text NOT NULL DEFAULT 'email' CHECK (preferred_channel IN ('email', 'phone')),
    quiet_start      time NOT NULL DEFAULT '21:00',
    quiet_end        time NOT NULL DEFAULT '08:00',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS customers_email ON customers (lower(email));

CREATE TABLE IF NOT EXISTS households (
    household_id  text PRIMARY KEY CHECK (household_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    customer_id   text NOT NULL REFERENCES customers ON DELETE CASCADE,
    label         text NOT NULL DEFAULT 'home',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS households_customer ON households (customer_id);

ALTER TABLE devices ADD COLUMN IF NOT EXISTS household_id text
    REFERENCES households ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS devices_household ON devices (household_id);

-- Consents are an append-only history: each change is a row with its time and source; the
-- newest row per kind is in force (view `customer_consents`), so a change applies at once.
CREATE TABLE IF NOT EXISTS consents (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  text NOT NULL REFERENCES customers ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('proactive_email', 'usage_for_availability')),
    granted      boolean NOT NULL,
    source       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS consents_customer ON consents (customer_id, kind, id DESC);

CREATE OR REPLACE VIEW customer_consents AS
SELECT c.customer_id,
       coalesce((SELECT granted FROM consents k WHERE k.customer_id = c.customer_id
                 AND k.kind = 'proactive_email' ORDER BY id DESC LIMIT 1), false)
           AS proactive_email,
       coalesce((SELECT granted FROM consents k WHERE k.customer_id = c.customer_id
                 AND k.kind = 'usage_for_availability' ORDER BY id DESC LIMIT 1), false)
           AS usage_for_availability
FROM customers c;

-- Who did what to which subject. Never holds personal data: subjects are named by their ids.
CREATE TABLE IF NOT EXISTS audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor         text NOT NULL,
    action        text NOT NULL,
    subject_type  text NOT NULL,
    subject_id    text NOT NULL,
    detail        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_log_subject ON audit_log (subject_type, subject_id, at);
