-- Dispatch (issue 6): technicians and their calendars, decisions, the email outbox, signed-link
-- uses, unsubscribes and household availability. Customer and incident ids are text so that
-- dispatch does not depend on how the devices and rules areas key their rows.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE IF NOT EXISTS technicians (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    email       text NOT NULL DEFAULT '',
    skills      text[] NOT NULL DEFAULT '{}',
    home_lat    double precision NOT NULL,
    home_lon    double precision NOT NULL,
    territory   text NOT NULL DEFAULT '',
    tz          text NOT NULL DEFAULT 'UTC',
    work_start  time NOT NULL DEFAULT '08:00',
    work_end    time NOT NULL DEFAULT '17:00',
    work_days   smallint[] NOT NULL DEFAULT '{0,1,2,3,4}',
    active      boolean NOT NULL DEFAULT true,
    CHECK (work_end > work_start)
);
CREATE INDEX IF NOT EXISTS technicians_skills ON technicians USING gin (skills);

CREATE TABLE IF NOT EXISTS technician_days_off (
    technician_id bigint NOT NULL REFERENCES technicians ON DELETE CASCADE,
    day           date NOT NULL,
    PRIMARY KEY (technician_id, day)
);

-- A visit on a technician's calendar. 'held' is a tentative proposal that expires; 'booked' is
-- confirmed. The exclusion constraint makes a double booking impossible whatever the code does.
CREATE TABLE IF NOT EXISTS visits (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    technician_id    bigint NOT NULL REFERENCES technicians,
    incident_id      text NOT NULL,
    customer_id      text NOT NULL DEFAULT '',
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    state            text NOT NULL CHECK (state IN ('held', 'booked', 'released', 'cancelled',
                                                    'done')),
    hold_expires_at  timestamptz,
    lat              double precision NOT NULL,
    lon              double precision NOT NULL,
    skill            text NOT NULL,
    parts            text[] NOT NULL DEFAULT '{}',
    urgent           boolean NOT NULL DEFAULT false,
    p_home           double precision,
    score            double precision,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    reminded_at      timestamptz,
    CHECK (ends_at > starts_at),
    CONSTRAINT visits_no_double_booking EXCLUDE USING gist (
        technician_id WITH =, tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (state IN ('held', 'booked'))
);
CREATE INDEX IF NOT EXISTS visits_incident ON visits (incident_id);
CREATE INDEX IF NOT EXISTS visits_hold_expiry ON visits (hold_expires_at) WHERE state = 'held';
CREATE INDEX IF NOT EXISTS visits_booked_start ON visits (starts_at) WHERE state = 'booked';

-- The offered slots of an incident's proposal, best first: "choose another slot" picks one.
CREATE TABLE IF NOT EXISTS visit_offers (
    incident_id    text NOT NULL,
    rank           smallint NOT NULL,
    technician_id  bigint NOT NULL REFERENCES technicians,
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    p_home         double precision NOT NULL,
    score          double precision NOT NULL,
    PRIMARY KEY (incident_id, rank)
);

-- One row per incident episode and action kind: the idempotency key is incident id + kind.
CREATE TABLE IF NOT EXISTS dispatch_decisions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,
    incident_id      text NOT NULL,
    customer_id      text NOT NULL DEFAULT '',
    action           text NOT NULL,
    delivery         text NOT NULL,
    send_at          timestamptz,
    urgent           boolean NOT NULL DEFAULT false,
    escalated        boolean NOT NULL DEFAULT false,
    reason           text NOT NULL DEFAULT '',
    visit_id         bigint REFERENCES visits,
    outbox_id        bigint,
    decided_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dispatch_decisions_incident ON dispatch_decisions (incident_id);
CREATE INDEX IF NOT EXISTS dispatch_decisions_waiting ON dispatch_decisions (decided_at)
    WHERE action = 'wait_for_scheduler';

-- The outbox: written in the decision's transaction, delivered by the sender. The Message-ID
-- is derived from the row, so a retry is the same email. A digest row collects items while
-- it is pending (one open digest per customer and day).
CREATE TABLE IF NOT EXISTS email_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,
    kind             text NOT NULL CHECK (kind IN ('self_help', 'visit', 'urgent', 'digest',
                                                   'reminder', 'confirmation')),
    customer_id      text NOT NULL DEFAULT '',
    to_addr          text NOT NULL,
    language         text NOT NULL DEFAULT 'en',
    payload          jsonb NOT NULL,
    digest_key       text,
    send_at          timestamptz NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    lease_until      timestamptz,
    last_error       text,
    message_id       text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS email_outbox_due ON email_outbox (send_at)
    WHERE state IN ('pending', 'sending');
CREATE INDEX IF NOT EXISTS email_outbox_customer_day ON email_outbox (customer_id, send_at);
CREATE UNIQUE INDEX IF NOT EXISTS email_outbox_open_digest ON email_outbox (digest_key)
    WHERE state = 'pending' AND digest_key IS NOT NULL;

-- A signed link is useful once: its first use is recorded with its outcome.
CREATE TABLE IF NOT EXISTS link_uses (
    token_hash  text PRIMARY KEY,
    action      text NOT NULL,
    subject     text NOT NULL,
    outcome     text NOT NULL,
    used_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS email_unsubscribes (
    customer_id  text PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    via          text NOT NULL DEFAULT 'link'
);

-- P(home) per local hour of week (Monday 00:00 = 0) for households that consented.
CREATE TABLE IF NOT EXISTS household_availability (
    customer_id  text PRIMARY KEY,
    tz           text NOT NULL,
    p_home       double precision[] NOT NULL CHECK (cardinality(p_home) = 168),
    confidence   double precision[] NOT NULL CHECK (cardinality(confidence) = 168),
    events       integer NOT NULL DEFAULT 0,
    computed_at  timestamptz NOT NULL DEFAULT now()
);
