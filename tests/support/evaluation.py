"""A hand-written evaluation case: ground truth as the simulator writes it, and the platform's
records of it in the real tables; `run_evaluate` invokes `fixahead evaluate` on it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import typer

from fixahead.commands import evaluation
from tests.support.cli import invoke

START = datetime(2026, 11, 1, tzinfo=UTC)  # a Sunday; all times UTC, no DST inside
END = START + timedelta(days=10)
WASHER, FRIDGE = "ev0-washer", "ev0-fridge"


def at(day: int, hour: float = 0.0) -> datetime:
    """November `day`, 2026, at `hour` UTC."""
    return datetime(2026, 11, day, tzinfo=UTC) + timedelta(hours=hour)


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def write_truth(out: Path, away: list[tuple[datetime, datetime]]) -> None:
    """A ground-truth directory as the simulator writes it: one household, two devices."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").write_text(json.dumps(
        {"seed": 7, "tag": "ev0", "start_ms": ms(START), "end_ms": ms(END), "households": 1,
         "devices": 2, "shard": [0, 1]}))
    (out / "fleet.json").write_text(json.dumps({
        "households": [{"id": "hh-0", "index": 0, "people": [], "vacation_days": None}],
        "devices": [{"device_id": WASHER, "model_id": "WM-800", "kind": "washer",
                     "household": "hh-0", "index": 0, "binary": True},
                    {"device_id": FRIDGE, "model_id": "FR-300", "kind": "fridge",
                     "household": "hh-0", "index": 1, "binary": True}]}))
    base = {"first_symptom_ms": None, "metric": None, "end_ms": None, "shape": 1.5,
            "episodes": [], "planned_failure_ms": None}
    faults = [{**base, "fault_id": "f1", "device_id": WASHER, "model_id": "WM-800",
               "kind": "gradual", "mechanism": "drain_pump_clog", "code": "E21",
               "onset_ms": ms(at(2)), "hard_failure_ms": ms(at(8)), "customer_fixable": True},
              {**base, "fault_id": "f2", "device_id": FRIDGE, "model_id": "FR-300",
               "kind": "sudden", "mechanism": "door_left_open", "code": "F7",
               "onset_ms": ms(at(5, 10)), "hard_failure_ms": ms(at(5, 10)),
               "customer_fixable": True}]
    (out / "faults.jsonl").write_text("".join(json.dumps(f) + "\n" for f in faults))
    (out / "network.jsonl").write_text("")
    minutes = [15] * (11 * 96)
    for a, b in away:
        for i in range((ms(a) - ms(START)) // 900_000, (ms(b) - ms(START)) // 900_000):
            minutes[i] = 0
    (out / "presence.jsonl").write_text(json.dumps(
        {"household": "hh-0", "start_ms": ms(START), "slot_s": 900, "minutes_home": minutes})
        + "\n")


def add_fleet(conn: psycopg.Connection) -> dict[str, int]:
    """The customer, household and devices in the real tables; device id -> integer key."""
    conn.execute("INSERT INTO customers (customer_id, name, email, time_zone, lat, lon) "
                 "VALUES ('cus-0', 'Ada', 'ada@example.org', 'UTC', 52.52, 13.40)")
    conn.execute("INSERT INTO households (household_id, customer_id) VALUES ('hh-0', 'cus-0')")
    for kind in ("proactive_email", "usage_for_availability"):
        conn.execute("INSERT INTO consents (customer_id, kind, granted, source) "
                     "VALUES ('cus-0', %s, true, 'test')", (kind,))
    keys = {}
    for dev, model in ((WASHER, "WM-800"), (FRIDGE, "FR-300"), ("other-run", "WM-800")):
        row = conn.execute("INSERT INTO devices (device_id, model_id, household_id) "
                           "VALUES (%s, %s, 'hh-0') RETURNING id", (dev, model)).fetchone()
        assert row is not None
        keys[dev] = row[0]
    return keys


def add_incident(conn: psycopg.Connection, device: int, fault: str, opened: datetime,
                 kind: str = "prediction", action: str = "technician") -> str:
    key = f"{device}:{fault}:{ms(opened)}"
    conn.execute(
        """INSERT INTO incidents (key, device, fault, kind, severity, action, title, state,
                                  opened_at, updated_at)
           VALUES (%s, %s, %s, %s, 'warning', %s, 't', 'open', %s, %s)""",
        (key, device, fault, kind, action, opened, opened))
    return key


def add_email(conn: psycopg.Connection, key: str, kind: str, created: datetime,
              payload: dict[str, Any] | None = None) -> int:
    row = conn.execute(
        """INSERT INTO email_outbox (idempotency_key, kind, customer_id, to_addr, payload,
                                     send_at, created_at)
           VALUES (%s, %s, 'cus-0', 'ada@example.org', %s, %s, %s) RETURNING id""",
        (f"{key}:{kind}", kind, json.dumps(payload or {"incident_id": key, "kind": kind}),
         created, created)).fetchone()
    assert row is not None
    return int(row[0])


def run_evaluate(database_url: str, data_dir: Path, *args: str,
                 env: dict[str, str] | None = None) -> tuple[int, str]:
    """Invoke `evaluate` against `database_url` with `data_dir`; (exit code, output)."""
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command keeps "evaluate" a sub-command
    evaluation.register(app)
    return invoke(app, args, {"FIXAHEAD_DATABASE_URL": database_url,
                              "FIXAHEAD_DATA_DIR": str(data_dir),
                              "FIXAHEAD_LOG_LEVEL": "WARNING", **(env or {})})
