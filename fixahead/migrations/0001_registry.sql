-- The minimal device registry ingest needs: models, their metrics and error codes, devices.
CREATE TABLE IF NOT EXISTS models (
    model_id        text PRIMARY KEY,
    kind            text NOT NULL,
    manufacturer    text NOT NULL DEFAULT '',
    name            text NOT NULL DEFAULT '',
    catalog_version text NOT NULL DEFAULT '1',
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS model_metrics (
    model_id   text NOT NULL REFERENCES models ON DELETE CASCADE,
    metric_id  smallint NOT NULL,
    name       text NOT NULL,
    unit       text NOT NULL DEFAULT '',
    valid_min  double precision,
    valid_max  double precision,
    PRIMARY KEY (model_id, metric_id),
    UNIQUE (model_id, name)
);

CREATE TABLE IF NOT EXISTS error_codes (
    model_id  text NOT NULL REFERENCES models ON DELETE CASCADE,
    code      text NOT NULL,
    title     text NOT NULL,
    meaning   text NOT NULL DEFAULT '',
    severity  text NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
    PRIMARY KEY (model_id, code)
);

CREATE TABLE IF NOT EXISTS devices (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id     text NOT NULL UNIQUE CHECK (device_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    model_id      text NOT NULL REFERENCES models,
    firmware      text NOT NULL DEFAULT '',
    secret_hash   text,
    state         text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked')),
    online        boolean,
    last_seen     timestamptz,
    status_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
