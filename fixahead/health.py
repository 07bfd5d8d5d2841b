"""Health, readiness and Prometheus metrics over HTTP for every role.

`/healthz` answers 200 while the process runs; `/readyz` 200 only when the role can do its
work (its `ready` check passes: database reachable, broker subscribed, partitions held...);
`/metrics` is the role's Prometheus registry. Roles without a web server get a small
threaded HTTP server on `FIXAHEAD_METRICS_PORT`; the web role mounts the same as a router.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

Check = Callable[[], bool]

# Offsets from FIXAHEAD_METRICS_PORT, so every role on one host (one env file) has its own
# port: ingest 9100 -> rules 9101, dispatch 9102, the single process (`up`) 9103, web 9104.
# The web app serves the same endpoints on its own HTTP port too.
ROLE_OFFSETS = {"ingest": 0, "rules": 1, "dispatch": 2, "up": 3, "web": 4}


def role_port(base: int, role: str) -> int:
    """The metrics port of `role` given FIXAHEAD_METRICS_PORT `base`."""
    return base + ROLE_OFFSETS[role]


def _answer(path: str, registry: CollectorRegistry, ready: Check) -> tuple[int, str, bytes]:
    if path == "/healthz":
        return 200, "text/plain", b"ok\n"
    if path == "/readyz":
        try:
            ok = ready()
        except Exception:
            log.exception("readiness check failed")
            ok = False
        return (200, "text/plain", b"ready\n") if ok else (503, "text/plain", b"not ready\n")
    if path == "/metrics":
        return 200, CONTENT_TYPE_LATEST, generate_latest(registry)
    return 404, "text/plain", b"not found\n"


def serve(port: int, registry: CollectorRegistry, ready: Check,
          host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Serve /healthz, /readyz and /metrics on a daemon thread; `shutdown()` to stop."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, ctype, body = _answer(self.path.split("?")[0], registry, ready)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt: str, *args: object) -> None:
            return  # scrapes every few seconds would drown the log

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


def router(registry: CollectorRegistry, ready: Check):  # type: ignore[no-untyped-def]
    """The same endpoints as a FastAPI router (for the web role)."""
    from fastapi import APIRouter, Response

    api = APIRouter(include_in_schema=False)

    def endpoint(path: str):  # type: ignore[no-untyped-def]
        def handle() -> Response:
            status, ctype, body = _answer(path, registry, ready)
            return Response(body, status_code=status, media_type=ctype)
        return handle

    for path in ("/healthz", "/readyz", "/metrics"):
        api.add_api_route(path, endpoint(path), methods=["GET"])
    return api


def database_ready(url: str) -> Check:
    """A check that the database answers within two seconds."""
    import psycopg

    def check() -> bool:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True

    return check
