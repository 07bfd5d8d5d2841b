"""Small scenarios with fixed windows for the simulator's unit tests."""

from __future__ import annotations

import datetime as dt
from functools import cache

from devices.catalog import Model, load_catalog
from simulator.plan import Scenario, plan
from simulator.timebase import DAY_MS, Window

MONDAY = int(dt.datetime(2026, 11, 2, tzinfo=dt.UTC).timestamp() * 1000)


@cache
def catalog() -> dict[str, Model]:
    """The packaged catalog, loaded once."""
    return load_catalog()


def window(days: float, start: int = MONDAY) -> Window:
    """A window of `days` starting at a Monday midnight (UTC)."""
    return Window(start, start + int(days * DAY_MS))


def scenario(households: int = 8, days: float = 3, seed: int = 7, start: int = MONDAY,
             **kwargs: object) -> Scenario:
    """A planned scenario over a fixed window."""
    return plan(households, window(days, start), seed, catalog(), **kwargs)  # type: ignore[arg-type]


def decoded_events(messages: list) -> list[tuple[str, int, str, str]]:  # type: ignore[type-arg]
    """(device_id, ts_ms, type, code or state) of every event in event messages."""
    from devices.protocol import decode_events

    out = []
    for m in messages:
        if m.channel == "events":
            for e in decode_events(m.payload, 1000).events:
                out.append((m.device_id, e.ts_ms, e.type, e.code or e.state))
    return out
