-- What visits and customers told us about when a household is home (issue 14): strong
-- evidence the availability model learns from. Owned by dispatch (availability_store).
CREATE TABLE IF NOT EXISTS availability_outcomes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('nobody_home', 'confirmed', 'picked_another')),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    chosen_start timestamptz,
    chosen_end   timestamptz,
    at           timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (kind <> 'picked_another' OR (chosen_start IS NOT NULL AND chosen_end > chosen_start))
);
CREATE INDEX IF NOT EXISTS availability_outcomes_customer ON availability_outcomes (customer_id, starts_at);
