"""Live updates: a visit changed by any connection reaches a board's queue through
PostgreSQL NOTIFY; the event stream needs a session."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from fixahead.web.board_app import create_web_app
from fixahead.web.live import Hub, Listener
from tests.integration.web.board_support import SECRET, now_utc, seed_job
from tests.integration.web.conftest import TestClient

pytestmark = pytest.mark.integration


def test_a_visit_changed_elsewhere_is_published_to_every_subscriber(database_url: str) -> None:
    hub = Hub()
    listener = Listener(database_url, hub).start()
    assert listener.ready.is_set()

    async def scenario() -> list[dict]:
        queues = [hub.subscribe(), hub.subscribe()]
        with psycopg.connect(database_url, autocommit=True) as conn:
            job = await asyncio.to_thread(seed_job, conn, now=now_utc())
            conn.execute("UPDATE visits SET state = 'cancelled' WHERE id = %s", (job.visit_id,))
        got = []
        for q in queues:
            while True:
                msg = json.loads(await asyncio.wait_for(q.get(), 5))
                if msg["state"] == "cancelled":
                    got.append(msg)
                    break
            hub.unsubscribe(q)
        return got

    try:
        got = asyncio.run(scenario())
    finally:
        listener.close()
    assert [m["op"] for m in got] == ["UPDATE", "UPDATE"] and hub.subscribers == 0


def test_the_event_stream_needs_a_session(database_url: str) -> None:
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, live=False)
    with TestClient(app) as client:
        assert client.get("/board/events").status_code == 401
