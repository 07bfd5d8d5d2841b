-- What an incident knows beyond its columns, as JSON written by the rule engine (rules owns
-- `incidents`): `remaining_life` {days, lo, hi (null: open-ended), at, text} for a prediction
-- from a trend rule ("about 6 days left (3-10)"), read by the job page and dispatch's emails.
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS detail jsonb NOT NULL DEFAULT '{}';
