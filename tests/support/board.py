"""Test data for the board: a customer whose washer has a fault that dispatch really booked,
technicians to move it between, telemetry around the detection; and logged-in clients."""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time as _time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import psycopg

from dispatch.booking import Technician
from dispatch.booking_store import add_technician
from dispatch.service import dispatch_incident
from fixahead.web.users import User, add_user, set_time_zone
from rules.incidents import Incident, IncidentChange
from rules.store import save_changes
from tests.support.dispatch import PORTS
from tests.support.incidents import add_customer_device

PASSWORD = "correct horse battery"
SECRET = b"test-web-secret-0123456789"


@dataclass(frozen=True)
class Seeded:
    """What `seed_job` made."""

    visit_id: int
    incident_key: str
    device_id: str
    technicians: list[int]
    customer_id: str


def add_people(conn: psycopg.Connection) -> dict[str, str]:
    """One account per role; email by role."""
    out = {}
    for role in ("admin", "scheduler", "viewer"):
        email = f"{role}@fix.example"
        add_user(conn, email=email, role=role, password=PASSWORD, actor="test")
        out[role] = email
    return out


def add_scheduler(conn: psycopg.Connection, time_zone: str,
                  email: str = "planner@fix.example") -> str:
    """A scheduler's account whose pages show `time_zone`; its email."""
    uid = add_user(conn, email=email, role="scheduler", password=PASSWORD, actor="test")
    set_time_zone(conn, User(uid, email, "scheduler"), time_zone)
    return email


def seed_job(conn: psycopg.Connection, *, now: datetime, suffix: str = "1",
             technicians: int = 2) -> Seeded:
    """A washer's motor fault (E60) opened by the rules store and dispatched for real."""
    cid, device_id = f"cus-{suffix}", f"wm-{suffix}"
    dev = add_customer_device(conn, suffix, name=f"Ada Quellmalz {suffix}")
    techs = [add_technician(conn, Technician(
        0, f"Tech {suffix}-{i}", frozenset({"electrical", "plumbing"}), 52.52, 13.40,
        territory="north" if i % 2 == 0 else "south", work_start=time(0, 0),
        work_end=time(23, 59), work_days=frozenset(range(7))))
        for i in range(technicians)]
    opened = now - timedelta(hours=2)
    opened_ms = int(opened.timestamp() * 1000)
    key = f"{dev}:E60:{opened_ms}"
    inc = Incident(key=key, device=dev, fault="E60", kind="prediction", severity="error",
                   action="technician", title="Drum motor strain", state="open",
                   opened_ms=opened_ms, updated_ms=opened_ms, sources=("drum_motor_strain",),
                   readings=((("ts_ms", float(opened_ms)), ("metric", 1.0), ("value", 9.5)),))
    with conn.transaction():
        save_changes(conn, [IncidentChange("opened", inc)])
    start = opened - timedelta(days=2)
    rows = [(start + timedelta(minutes=30 * k), dev, 1,
             5 + math.sin(k / 5) + (4 if start + timedelta(minutes=30 * k) > opened else 0))
            for k in range(2 * 24 * 2 + 8)]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO telemetry (time, device, metric, value) "
                        "VALUES (%s, %s, %s, %s)", rows)
    outcome = dispatch_incident(conn, incident_id=key, device_id=device_id, model_id="WM-800",
                                code="E60", now=now, ports=PORTS)
    assert outcome is not None and outcome.visit_id is not None, outcome
    return Seeded(outcome.visit_id, key, device_id, techs, cid)


def now_utc() -> datetime:
    """Now, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run `app` with uvicorn on a free port in a thread; its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = _time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or _time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        _time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
