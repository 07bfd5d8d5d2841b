"""Serve the web app on a thread (the single-process mode), the web role's garbage collector
setting, and the demo login."""

from __future__ import annotations

import gc
import secrets
import threading
from pathlib import Path
from typing import Any

import psycopg
import uvicorn

DEMO_EMAIL = "scheduler@fixahead.example"


class WebThread:
    """uvicorn on a daemon thread; `stop()` asks it to finish and waits."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self) -> WebThread:
        """Start serving; raise a clear error when the port is taken."""
        import socket
        import time

        config = self.server.config
        with socket.socket() as probe:
            try:
                probe.bind((config.host, config.port))
            except OSError:
                raise RuntimeError(f"port {config.port} on {config.host} is in use; set "
                                   "FIXAHEAD_WEB_PORT to another one") from None
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started and self.thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError("the web server did not start within 15 s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.should_exit = True
        self.thread.join(15)


def freeze_startup_objects() -> int:
    """Collect once, then keep everything alive after start-up out of the garbage collector's
    full collections (`gc.freeze`); how many objects were frozen.

    A web process holds about 116,000 tracked objects from its imports (NumPy, Numba, the
    rule engine) that live as long as it does. A board request allocates thousands of rows and
    blocks, so a full collection came every dozen requests and walked all of them: 60-107 ms
    each, 531 ms over 100 board requests, which set the board's p99 (the request's CPU time:
    p99 84 ms, 37 ms with them frozen; 200 technicians x 2,000 jobs, docs/web.md).
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def demo_login(database_url: str, data_dir: Path) -> tuple[str, str]:
    """An admin account for the demo, created once; its password kept in data_dir (mode 600)."""
    from fixahead.web.users import add_user

    path = data_dir / "demo-login"
    if path.exists():
        email, password = path.read_text().split("\n")[:2]
        return email, password
    password = secrets.token_urlsafe(12)
    with psycopg.connect(database_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM web_users WHERE email = %s",
                              (DEMO_EMAIL,)).fetchone()
        if exists:  # the password file was lost: set a new one
            from fixahead.web.users import hash_password

            conn.execute("UPDATE web_users SET password_hash = %s WHERE email = %s",
                         (hash_password(password), DEMO_EMAIL))
        else:
            add_user(conn, email=DEMO_EMAIL, role="admin", password=password, actor="fixahead up")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{DEMO_EMAIL}\n{password}\n")
    path.chmod(0o600)
    return DEMO_EMAIL, password
