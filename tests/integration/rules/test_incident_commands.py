"""People's incident commands go through the rule engine: a resolve or an acknowledgement made
through the API while evidence keeps coming is not undone by the engine's next write."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest

from devices.catalog import load_catalog
from devices.store import register_device
from fixahead.web.auth import create_token
from fixahead.web.board_app import create_web_app
from rules.compiler import compile_rules
from rules.engine import Engine
from rules.loader import load_packs
from rules.service import RulesService

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration
T0 = 1_767_225_600_000
EMPTY = np.array([], np.int64)


class Evidence:
    """A rules worker in a thread, fed one E90 error event of one washer every 20 ms."""

    def __init__(self, database_url: str, device: int) -> None:
        catalog = load_catalog()
        self.engine = Engine(compile_rules(load_packs(catalog), catalog), catalog)
        self.database_url = database_url
        self.device = device
        self.sent = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            svc = RulesService(conn, self.engine, owner="evidence")
            svc.claim()
            self.ready.set()
            try:
                while not self.stop.is_set():
                    n = self.sent + 1
                    event = (T0 + n * 60_000, self.device, n, "error", "E90", None, None, None,
                             True)
                    svc.handle(EMPTY, EMPTY.astype(np.int32), EMPTY.astype(np.int16),
                               np.array([]), [event])
                    self.sent = n
                    time.sleep(0.02)
            except BaseException as e:
                self.error = e
                raise
            finally:
                svc.close()

    def wait_for(self, n: int) -> None:
        """Until `n` more events have been handled."""
        target = self.sent + n
        deadline = time.monotonic() + 60
        while self.sent < target and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.error is None, f"the rules worker failed: {self.error!r}"
        assert self.sent >= target, "the rules worker stopped handling evidence"

    def __enter__(self) -> Evidence:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def api(database_url: str) -> Iterator[tuple[TestClient, psycopg.Connection, dict, int]]:
    with psycopg.connect(database_url, autocommit=True) as conn, \
            TestClient(create_web_app(database_url, secret="s" * 32, secure_cookies=False,
                                      pool_max=2, live=False)) as client:
        device = register_device(conn, "wm-cmd-1", "WM-800")
        headers = {"Authorization": "Bearer " + create_token(
            conn, role="scheduler", name="s", actor="test")}
        yield client, conn, headers, device


def _incidents(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    return conn.execute("SELECT key, state, version FROM incidents ORDER BY opened_at").fetchall()


def test_a_resolve_made_while_evidence_keeps_coming_stays_resolved(database_url, api) -> None:
    client, conn, headers, device = api
    with Evidence(database_url, device) as evidence:
        evidence.wait_for(3)
        [(key, state, _)] = _incidents(conn)
        assert state in ("open", "updated")
        r = client.post(f"/api/v1/incidents/{key}/resolve", headers=headers)
        assert r.status_code == 200 and r.json()["state"] == "resolved"
        evidence.wait_for(5)
        rows = _incidents(conn)
    first = rows[0]
    assert first[0] == key and first[1] == "resolved"
    # new evidence opened a new episode instead of reviving the resolved one
    assert len(rows) == 2 and rows[1][0] != key and rows[1][1] in ("open", "updated")
    # and the engine's book agrees: nothing it wrote after the resolve touched that incident
    later = conn.execute("SELECT change FROM incident_changes WHERE key = %s ORDER BY version",
                         (key,)).fetchall()
    assert later[-1] == ("resolved",)


def test_an_acknowledgement_survives_updates(database_url, api) -> None:
    client, conn, headers, device = api
    with Evidence(database_url, device) as evidence:
        evidence.wait_for(2)
        [(key, _, _)] = _incidents(conn)
        r = client.post(f"/api/v1/incidents/{key}/acknowledge", headers=headers)
        assert r.status_code == 200 and r.json()["state"] == "acknowledged"
        (acked_version,) = conn.execute("SELECT version FROM incidents WHERE key = %s",
                                        (key,)).fetchone()
        evidence.wait_for(5)
        [(same, state, version)] = _incidents(conn)
        again = client.post(f"/api/v1/incidents/{key}/acknowledge", headers=headers)
    assert same == key and state == "acknowledged"
    assert version >= acked_version + 5  # updated by the evidence since, still acknowledged
    assert again.status_code == 409 and "acknowledged" in again.json()["detail"]
    (audited,) = conn.execute("SELECT count(*) FROM audit_log WHERE action = "
                              "'incident.acknowledged' AND subject_id = %s", (key,)).fetchone()
    assert audited == 1


def test_a_command_for_an_incident_the_worker_never_saw_is_applied_by_it(
        database_url, api) -> None:
    client, conn, headers, device = api
    with Evidence(database_url, device) as evidence:
        evidence.wait_for(1)
        other = register_device(conn, "wm-cmd-2", "WM-800")
        # an incident an earlier worker stored, for a device this worker has not seen yet
        conn.execute("""INSERT INTO incidents (key, device, fault, kind, severity, action, title,
                                               state, opened_at, updated_at)
                        VALUES ('old', %s, 'E21', 'prediction', 'warning', 'self_help', 't',
                                'open', now(), now())""", (other,))
        r = client.post("/api/v1/incidents/old/resolve", headers=headers)
        assert r.status_code == 200 and r.json()["state"] == "resolved"
    assert conn.execute("SELECT state, version FROM incidents WHERE key = 'old'").fetchone() \
        == ("resolved", 2)
