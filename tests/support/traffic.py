"""Deterministic test traffic: every sample unique by (device, metric, time)."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from devices import protocol
from devices.protocol import Telemetry
from devices.provisioning import register
from devices.store import register_device


def register_fleet(database_url: str, count: int, model: str = "WM-800") -> list[str]:
    """Register `count` devices named t-0000... and return their ids."""
    ids = [f"t-{i:04d}" for i in range(count)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        for device_id in ids:
            register_device(conn, device_id, model)
    return ids


# a healthy WM-800 at rest: motor_current, water_inflow, drain_time, vibration
WASHER_AT_REST = (1.2, 0.0, 60.0, 0.2)


def telemetry_messages(prefix: str, device_ids: list[str], per_device: int, samples: int,
                       *, binary_every: int = 3, start_ms: int | None = None,
                       healthy: bool = False) -> list[tuple[str, bytes]]:
    """`per_device` messages per device of `samples` samples each, interleaved by device.

    Values are distinct per device and sample (easy to trace), or with `healthy` those of a
    washer at rest, so that no rule takes them for a fault."""
    start = start_ms if start_ms is not None else int(time.time() * 1000) - 3_600_000
    out = []
    for seq in range(per_device):
        for d, device_id in enumerate(device_ids):
            ts = [start + (seq * samples + k) * 10 for k in range(samples)]
            metrics = [1 + (k % 4) for k in range(samples)]
            values = ([WASHER_AT_REST[m - 1] for m in metrics] if healthy
                      else [float(d * 1000 + seq + k / 8) for k in range(samples)])
            if (seq + d) % binary_every == 0:
                payload = protocol.encode_telemetry_binary(Telemetry(seq, ts, metrics, values))
            else:
                names = ["motor_current", "water_inflow", "drain_time", "vibration"]
                payload = protocol.encode_telemetry_json(
                    Telemetry(seq, ts, [names[m - 1] for m in metrics], values))
            out.append((f"{prefix}/{device_id}/telemetry", payload))
    return out


def stored(database_url: str) -> tuple[int, int]:
    """(telemetry rows, rows that occur more than once by device, metric and time)."""
    with psycopg.connect(database_url) as conn:
        total = conn.execute("SELECT count(*) FROM telemetry").fetchone()
        dupes = conn.execute(
            """SELECT coalesce(sum(n - 1), 0) FROM (
                   SELECT count(*) AS n FROM telemetry GROUP BY device, metric, time
                   HAVING count(*) > 1) d""").fetchone()
    assert total is not None and dupes is not None
    return int(total[0]), int(dupes[0])


def new_device(ends: Any, device_id: str, prefix: str = "fixahead/v1") -> str:
    """Register a device the way the CLI does (the registry, then the running broker is told
    through `ends`, a `fixahead.services.Endpoints`); its secret."""
    with psycopg.connect(ends.database_url, autocommit=True) as conn:
        secret = register(conn, model_id="WM-800", device_id=device_id, actor="test")[1]
    ends.refresh_broker_accounts(prefix, {device_id: secret})
    return secret
