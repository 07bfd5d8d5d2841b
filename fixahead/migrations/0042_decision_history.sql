-- Dispatch (issue 6): remember which device and fault a decision was about, so a fault that
-- persists or comes back after self-help escalates to a visit.
ALTER TABLE dispatch_decisions
    ADD COLUMN IF NOT EXISTS device_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS fault_code text NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS dispatch_decisions_device_fault
    ON dispatch_decisions (device_id, fault_code, decided_at DESC);
