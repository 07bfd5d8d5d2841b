"""Ingest owns the path from the broker to the database: receive over MQTT, decode and
validate, batch, binary COPY into PostgreSQL/TimescaleDB, and acknowledge after commit.
Invalid messages go to dead letters with their reason and raw bytes; the functions below are
how others read them, and `ingest.queries` how they read what it stored.

Tables it owns: telemetry, telemetry_hourly, events, ingest_messages, dead_letters,
ingest_feed, feed_positions."""


from ingest.deadletterstore import (
    StoredDeadLetter,
    count_dead_letters,
    get_dead_letter,
    list_dead_letters,
    prune_dead_letters,
)

__all__ = ["StoredDeadLetter", "count_dead_letters", "get_dead_letter", "list_dead_letters",
           "prune_dead_letters"]
