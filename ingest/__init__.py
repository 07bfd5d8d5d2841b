"""Ingest owns the path from the broker to the database: receive over MQTT, decode and
validate, batch, binary COPY into PostgreSQL/TimescaleDB, and acknowledge after commit.
Invalid messages go to dead letters with their reason and raw bytes; the functions below are
how others read them."""

from ingest.deadletterstore import (
    StoredDeadLetter,
    count_dead_letters,
    get_dead_letter,
    list_dead_letters,
    prune_dead_letters,
)

__all__ = ["StoredDeadLetter", "count_dead_letters", "get_dead_letter", "list_dead_letters",
           "prune_dead_letters"]
