"""`fixahead web user-add` on a real database: the account works for signing in."""

from __future__ import annotations

import logging

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from fixahead.commands import web
from fixahead.web.users import check_login

pytestmark = pytest.mark.integration


def run(database_url: str, *args: str, stdin: str = "") -> tuple[int, str]:
    """Invoke the web commands against `database_url`; (exit code, output)."""
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command keeps "web" a sub-command
    web.register(app)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(app, list(args), input=stdin, env={
            "FIXAHEAD_DATABASE_URL": database_url, "FIXAHEAD_LOG_LEVEL": "WARNING"})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return result.exit_code, result.output


def test_user_add_creates_an_account_that_can_sign_in(database_url: str) -> None:
    code, out = run(database_url, "web", "user-add", "--email", "sam@fix.example", "--role",
                    "scheduler", "--password-stdin", stdin="long enough secret\n")
    assert code == 0 and "created" in out, out
    with psycopg.connect(database_url, autocommit=True) as conn:
        user = check_login(conn, "Sam@fix.example", "long enough secret")
        assert user is not None and user.role == "scheduler"
        assert conn.execute("SELECT actor, action FROM audit_log WHERE subject_type = 'user'"
                            ).fetchall() == [("cli", "user.create")]


def test_user_add_refuses_a_bad_role_or_a_short_password(database_url: str) -> None:
    code, out = run(database_url, "web", "user-add", "--email", "a@fix.example", "--role",
                    "boss", "--password-stdin", stdin="long enough secret\n")
    assert code == 2 and "role must be one of" in out
    code, out = run(database_url, "web", "user-add", "--email", "a@fix.example", "--role",
                    "viewer", "--password-stdin", stdin="short\n")
    assert code == 2 and "at least 10 characters" in out


def test_build_web_app_serves_the_board_api_and_customer_pages(database_url: str,
                                                               tmp_path) -> None:
    from fixahead.settings import load_settings
    from tests.integration.web.conftest import TestClient

    settings = load_settings({}, database_url=database_url, data_dir=tmp_path)
    app = web.build_web_app(settings, database_url, link_secret=b"link-secret-for-tests")
    with TestClient(app) as client:
        assert client.get("/login").status_code == 200
        assert client.get("/static/htmx.min.js").status_code == 200
        assert client.get("/api/v1/jobs").json()["error"] == "unauthorized"
        assert client.get("/c/not-a-token").status_code == 404
        assert "secure" not in client.get("/login").headers["set-cookie"].lower()
    assert (tmp_path / "web-secret").stat().st_mode & 0o777 == 0o600
