"""The handoffs between packages, named: the event row ingest commits and rules reads, and the
byte layout of a committed batch in the `ingest_feed` log. No I/O.

`devices/` is the base every package may import, so a contract written here is the one both
sides use; neither reads the other's fields by position.
"""

from __future__ import annotations

from typing import NamedTuple


class EventRow(NamedTuple):
    """One stored device event, as ingest commits it (and the rule engine reads it)."""

    ts_ms: int            # event time, Unix milliseconds
    device: int           # registry key (devices.id)
    seq: int              # the message's per-device sequence number
    kind: str             # "error", "cleared", "state", ...
    code: str | None      # manufacturer error code
    state: str | None     # appliance state for "state" events
    title: str | None     # the catalog's title of the code (None if unknown)
    severity: str | None  # the catalog's severity of the code (None if unknown)
    known: bool           # whether the code is in the model's catalog


# One committed batch in `ingest_feed`: telemetry columns as little-endian bytes (ordered by
# device, metric and time), the events as a JSON array of EventRow fields in order.
FEED_TS_MS = "<i8"    # int64 Unix milliseconds
FEED_DEVICE = "<i4"   # int32 registry key
FEED_METRIC = "<i2"   # int16 metric id
FEED_VALUE = "<f8"    # float64 reading, in the metric's unit

