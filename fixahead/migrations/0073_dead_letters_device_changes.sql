-- Dead letters keep at most a capped prefix of the payload; the size it had is kept here.
-- Queries by device and by time (operators' filters) and retention by age use the indexes.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS payload_bytes integer;
CREATE INDEX IF NOT EXISTS dead_letters_device ON dead_letters (device_id, received_at DESC);
CREATE INDEX IF NOT EXISTS dead_letters_received ON dead_letters (received_at);

-- A device revoked, rotated or deleted is announced at once (NOTIFY devices_changed, payload
-- the device id): ingest drops it from its registry snapshot and the broker sync cuts it off,
-- instead of either waiting for its next periodic refresh.
CREATE OR REPLACE FUNCTION devices_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('devices_changed', COALESCE(NEW.device_id, OLD.device_id));
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS devices_changed ON devices;
CREATE TRIGGER devices_changed AFTER INSERT OR DELETE OR UPDATE OF state, secret_hash
    ON devices FOR EACH ROW EXECUTE FUNCTION devices_changed_notify();
