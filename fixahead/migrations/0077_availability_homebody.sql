-- P(the household's routine is being home all day), from its event times (issue 14,
-- dispatch.availability_routine): the booking search asks more before leaving the first slot.
ALTER TABLE household_availability ADD COLUMN IF NOT EXISTS homebody double precision NOT NULL DEFAULT 0;
