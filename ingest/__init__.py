"""Ingest owns the path from the broker to the database: receive over MQTT, decode and
validate, batch, binary COPY into PostgreSQL/TimescaleDB, and acknowledge after commit.
Invalid messages go to dead letters with their reason and raw bytes."""
