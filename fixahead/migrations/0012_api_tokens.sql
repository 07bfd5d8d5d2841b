-- API tokens (issue 3): only a SHA-256 of each token is kept (tokens are 256 random bits, so a
-- fast hash is enough and lets a request find its token by index); roles admin/scheduler/viewer.
CREATE TABLE IF NOT EXISTS api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'scheduler', 'viewer')),
    token_hash    text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
