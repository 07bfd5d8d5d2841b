"""A small hand-made run with known answers, in UTC (no DST), 30 days from day 10."""

from __future__ import annotations

from typing import Any

from fixahead.lab.evaluation.types import (
    DAY_MS,
    Email,
    EmailItem,
    ErrorArrival,
    Incident,
    Records,
    Visit,
)

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


CODES = {"M": frozenset({"E21", "F2", "F9", "E90", "I05"})}


def inc(key: str, device: str, code: str, opened: int, kind: str = "prediction") -> Incident:
    return Incident(key, device, code, kind, "technician", opened)


def mail(i: int, kind: str, key: str, created_s: float = 0.0, item_kind: str | None = None,
          state: str = "pending") -> Email:
    return Email(i, kind, created_s, (EmailItem(key, item_kind or kind),), state)


def detection_case() -> tuple[dict, Records]:  # type: ignore[type-arg]
    faults = [fault("g1", "d1", "gradual", "E21", day(12), day(20), True),  # found 3 days early
              fault("g2", "d2", "gradual", "F2", day(14), day(25), False),  # missed
              fault("s1", "d3", "sudden", "E90", day(30), day(30), False),
              fault("s2", "d4", "sudden", "I05", day(32), day(32), True)]
    incidents = (inc("i-g1", "d1", "E21", day(17)),
                 inc("i-fa", "d2", "F9", day(18)),  # a code no fault of d2 had: false alarm
                 inc("i-s1", "d3", "E90", day(30), "error"),
                 inc("i-s2", "d4", "I05", day(32), "error"))
    emails = (mail(1, "self_help", "i-g1", 100.0),
              mail(2, "urgent", "i-s1", 5002.5))
    errors = (ErrorArrival("d3", "E90", day(30), 5000.0),
              ErrorArrival("d4", "I05", day(32), 6000.0))
    return truth(faults), Records(incidents=incidents, emails=emails, errors=errors,
                                  catalog_codes=CODES)


def visit_case() -> tuple[dict, Records]:  # type: ignore[type-arg]
    faults = [fault("s1", "d3", "sudden", "E90", day(30), day(30), False),
              fault("g1", "d1", "gradual", "E21", day(12), day(20), True)]
    gt = truth(faults, vacation=(35, 38), away_hh2=[(day(31, 10), day(31, 12))])
    incidents = (inc("i-s1", "d3", "E90", day(30), "error"),
                 inc("i-g1", "d1", "E21", day(17)),
                 inc("i-late", "d4", "E90", day(39)))
    visits = (Visit(1, "i-s1", day(31, 14), day(31, 15), "held"),  # home
              Visit(2, "i-g1", day(36, 9), day(36, 10), "released"),  # on vacation
              Visit(3, "i-late", day(45, 9), day(45, 10), "held"),  # after the truth ends
              Visit(4, "i-s1", day(31, 10), day(31, 11), "booked"))  # a later move: ignored
    baseline = {"i-s1": (day(31, 10), day(31, 11)),  # away
                "i-g1": (day(21, 9), day(21, 10)),  # home
                "i-late": None}
    return gt, Records(incidents=incidents, visits=visits, baseline=baseline,
                       catalog_codes=CODES)
