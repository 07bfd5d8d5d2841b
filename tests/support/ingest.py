"""Messages ingest must dead-letter, each with the reason it gives."""

from __future__ import annotations

import struct

from devices import protocol
from devices.protocol import Telemetry

NOW = 1_790_000_000_000


def tele(seq: int, *samples: tuple[int, str, float], device: str | None = None) -> bytes:
    """A JSON telemetry message of (ts, metric, value) samples."""
    ts, m, v = zip(*samples, strict=True)
    return protocol.encode_telemetry_json(Telemetry(seq, list(ts), list(m), list(v), device))


def good() -> bytes:
    """A valid telemetry message of device wm-1 (a WM-800)."""
    return tele(1, (NOW, "motor_current", 1.0), (NOW + 5, "drain_time", 61.0))


# against devices wm-1, wm-2 (WM-800: motor_current, drain_time) and old-1 (revoked)
MALFORMED: list[tuple[str, bytes, str]] = [
    ("fixahead/v1/wm-1/telemetry", b"{not json", "bad_json"),
    ("fixahead/v1/wm-1/telemetry", b"FX\x01\x01\x00", "bad_binary"),
    ("fixahead/v1/wm-1/telemetry",
     struct.pack(">2sBBQqH", b"FX", 1, 1, 5, NOW, 3) + b"\x00" * 10, "bad_binary"),
    ("fixahead/v1/wm-1/telemetry", b'{"seq": "1", "samples": []}', "bad_schema"),
    ("fixahead/v1/wm-1/telemetry",
     b'{"seq": 1, "samples": [{"ts": 1, "metric": "motor_current", "value": "hot"}]}',
     "bad_schema"),
    ("fixahead/v1/wm-1/telemetry",
     b'{"seq": 1, "samples": [{"ts": 1, "metric": "motor_current", "value": true}]}',
     "bad_schema"),
    ("fixahead/v1/wm-1/telemetry", f'{{"seq": 1, "samples": [{{"ts": {NOW}, '
     '"metric": "motor_current", "value": 1e999}]}'.encode(), "bad_json"),  # orjson refuses
    ("fixahead/v1/wm-1/telemetry",
     protocol.encode_telemetry_binary(Telemetry(2, [NOW], [1], [float("nan")])), "non_finite"),
    ("fixahead/v1/ghost/telemetry", good(), "unknown_device"),
    ("fixahead/v1/old-1/telemetry", good(), "revoked_device"),
    ("fixahead/v1/wm-1/telemetry", tele(1, (NOW, "motor_current", 1.0), device="wm-2"),
     "device_mismatch"),
    ("fixahead/v1/wm-1/telemetry", b"{" + b" " * 9000 + b"}", "oversized"),
    ("fixahead/v1/wm-1/telemetry", tele(1, *[(NOW, "motor_current", 1.0)] * 51),
     "too_many_samples"),
    ("fixahead/v1/wm-1/telemetry", tele(1, (NOW + 3_600_000, "motor_current", 1.0)),
     "ts_future"),
    ("fixahead/v1/wm-1/telemetry", tele(1, (NOW - 30 * 86_400_000, "motor_current", 1.0)),
     "ts_past"),
    ("fixahead/v1/wm-1/telemetry", tele(1, (NOW, "spin_speed", 1.0)), "unknown_metric"),
    ("fixahead/v1/wm-1/telemetry",
     protocol.encode_telemetry_binary(Telemetry(2, [NOW], [9], [1.0])), "unknown_metric"),
    ("fixahead/v1/wm-1/firmware", good(), "bad_topic"),
    ("fixahead/v1/wm 1/telemetry", good(), "bad_topic"),
    ("elsewhere/wm-1/telemetry", good(), "bad_topic"),
    ("fixahead/v1/wm-1/events", b'{"seq": 4, "events": [{"ts": 1, "type": "boom"}]}',
     "bad_schema"),
    ("fixahead/v1/wm-1/status", b'{"state": "sleepy"}', "bad_schema"),
]
