"""A small hand-made run with known answers, in UTC (no DST), 30 days from day 10."""

from __future__ import annotations

from typing import Any

from fixahead.evaluation.types import DAY_MS

HOUR_MS = 3_600_000
START, END = 10 * DAY_MS, 40 * DAY_MS
SLOTS_PER_DAY = 96


def day(d: float, hour: float = 0.0) -> int:
    """Epoch ms of day `d` (epoch days) at `hour` UTC."""
    return int(d * DAY_MS + hour * HOUR_MS)


def fault(fault_id: str, device: str, kind: str, code: str | None, onset: int,
          hard: int | None, fixable: bool, **extra: Any) -> dict[str, Any]:
    """A `faults.jsonl` row."""
    return {"fault_id": fault_id, "device_id": device, "model_id": "M", "kind": kind,
            "mechanism": "x", "code": code, "onset_ms": onset, "first_symptom_ms": onset,
            "hard_failure_ms": hard, "customer_fixable": fixable, "metric": None,
            "end_ms": extra.get("end_ms"), "planned_failure_ms": hard, "shape": 1.5,
            "episodes": extra.get("episodes", [])}


def presence(home: bool = True, away: list[tuple[int, int]] | None = None,
             days: int = 31) -> list[int]:
    """Minutes at home per 15-minute slot from day 10; `away` lists (first, last) ms spans."""
    mins = [15 if home else 0] * (days * SLOTS_PER_DAY)
    for a, b in away or []:
        for i in range((a - START) // 900_000, (b - START) // 900_000):
            mins[i] = 0
    return mins


def truth(faults: list[dict[str, Any]], *, vacation: tuple[int, int] | None = None,
          away_hh2: list[tuple[int, int]] | None = None) -> dict[str, Any]:
    """Ground truth as `read_ground_truth` returns it: 4 devices in 2 households."""
    devices = [{"device_id": d, "model_id": "M", "kind": "washer", "household": hh}
               for d, hh in (("d1", "hh1"), ("d2", "hh1"), ("d3", "hh2"), ("d4", "hh2"))]
    hh1_away = [(vacation[0] * DAY_MS, vacation[1] * DAY_MS)] if vacation else []
    return {"run": {"seed": 1, "start_ms": START, "end_ms": END},
            "households": [{"id": "hh1", "vacation_days": list(vacation) if vacation else None},
                           {"id": "hh2", "vacation_days": None}],
            "devices": devices, "faults": faults, "network": [],
            "presence": {"hh1": (START, 900, presence(away=hh1_away)),
                         "hh2": (START, 900, presence(away=away_hh2))}}
