"""Property test over decoder, batch builder and writer together, against real PostgreSQL:
whatever event text a device sends, the message is stored or dead-lettered, and the
transaction never fails."""

from __future__ import annotations

import itertools
import time

import orjson
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices import store
from devices.protocol import EVENT_HEAD, HEADER, KIND_EVENTS, MAGIC, VERSION, Limits
from ingest.batch import BatchBuilder
from ingest.writer import write_batch

pytestmark = pytest.mark.integration

PREFIX = "fixahead/v1"
SEQ = itertools.count()
texts = st.text(st.characters(exclude_categories=("Cs",)), min_size=0, max_size=80)


def json_events(seq: int, kind: str, text: str, now: int) -> bytes:
    key = "state" if kind == "state" else "code"
    return orjson.dumps({"seq": seq, "events": [{"ts": now, "type": kind, key: text}]})


def binary_events(seq: int, kind: str, raw: bytes, now: int) -> bytes:
    return (HEADER.pack(MAGIC, VERSION, KIND_EVENTS, seq, now, 1)
            + EVENT_HEAD.pack(0, ("error", "cleared", "state").index(kind), len(raw)) + raw)


@pytest.fixture
def conn(database_url):
    with psycopg.connect(database_url, autocommit=True) as c:
        store.register_device(c, "p-1", "WM-800")
        yield c


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["error", "cleared", "state"]), texts,
                          st.binary(max_size=70), st.booleans()), min_size=1, max_size=8))
def test_any_event_text_is_stored_or_dead_lettered_never_a_failed_write(conn, messages):
    now = int(time.time() * 1000)
    builder = BatchBuilder(store.load_registry(conn), Limits(), PREFIX)
    for kind, text, raw, as_json in messages:
        seq = next(SEQ)
        payload = json_events(seq, kind, text, now) if as_json else binary_events(
            seq, kind, raw[:255], now)
        builder.add(f"{PREFIX}/p-1/events", payload, seq, now)
    batch = builder.take()
    before = conn.execute("SELECT (SELECT count(*) FROM events), "
                          "(SELECT count(*) FROM dead_letters)").fetchone()
    committed = write_batch(conn, batch)  # must not raise
    after = conn.execute("SELECT (SELECT count(*) FROM events), "
                         "(SELECT count(*) FROM dead_letters)").fetchone()
    assert after[0] - before[0] == len(committed.events) == len(batch.events)
    assert after[1] - before[1] == len(batch.dead)
    assert len(batch.events) + len(batch.dead) == len(messages)
