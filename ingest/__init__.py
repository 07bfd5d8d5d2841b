"""Ingest owns the path from the broker to the database: receive over MQTT, decode and
validate, batch, binary COPY into PostgreSQL/TimescaleDB, and acknowledge after commit.
Invalid messages go to dead letters with their reason and raw bytes. Others read what it
stored through `ingest.queries`.

Tables it owns: telemetry, telemetry_hourly, events, ingest_messages, dead_letters,
ingest_feed, feed_positions."""
