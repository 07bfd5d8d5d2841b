"""`fixahead diagnostics request/show` on a real database (the area registered on its own
app, as the lead will register it on the root app)."""

from __future__ import annotations

import json

import psycopg
import pytest
import typer

from devices.provisioning import register
from fixahead.commands import diagnostics
from tests.support.cli import invoke

pytestmark = pytest.mark.integration

app = typer.Typer()
diagnostics.register(app)


@app.callback()
def _root() -> None:
    """Keep `diagnostics` a sub-command."""


def run(database_url: str, *args: str) -> tuple[int, str]:
    """Invoke the CLI against `database_url`; (exit code, output)."""
    return invoke(app, args, {"FIXAHEAD_DATABASE_URL": database_url,
                              "FIXAHEAD_LOG_LEVEL": "WARNING"})


def test_an_operator_queues_a_request_and_sees_it_wait(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        register(conn, model_id="WM-800", device_id="wm-cli-1", actor="test")
    code, out = run(database_url, "diagnostics", "request", "wm-cli-1", "--kind", "self_test",
                    "--ttl", "120", "--incident", "inc-7")
    assert code == 0, out
    req = json.loads(out)
    assert req["state"] == "pending" and req["kind"] == "self_test"
    code, out = run(database_url, "diagnostics", "show", "wm-cli-1")
    assert code == 0 and req["request_id"] in out and "waiting" in out
    with psycopg.connect(database_url) as conn:
        actor = conn.execute("SELECT actor FROM audit_log WHERE action = "
                             "'diagnostics.request'").fetchone()
    assert actor is not None and actor[0].startswith("cli:")


def test_an_unknown_device_or_kind_is_an_error(database_url: str) -> None:
    code, _ = run(database_url, "diagnostics", "request", "nobody")
    assert code == 1
    code, _ = run(database_url, "diagnostics", "request", "nobody", "--kind", "reboot")
    assert code == 2
