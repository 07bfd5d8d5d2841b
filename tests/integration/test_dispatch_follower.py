"""Dispatch as a reader of `incident_changes` (the dispatch role's loop, which the single
process runs on a thread of its own): each opening dispatched once at its event time, from a
saved position, and the sender and jobs on the clock the caller gives."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import psycopg
import pytest

from dispatch.email.render import EmailSettings
from dispatch.email.sender import SmtpSettings
from dispatch.email.sink import SmtpSink
from dispatch.service import Outcome
from fixahead.roles import IncidentFollower, run_dispatch
from tests.support.incidents import T0, add_customer_device, drain_fault, store
from tests.support.mqtt import wait_for

pytestmark = pytest.mark.integration


def decisions(conn: psycopg.Connection) -> list[tuple[str, datetime]]:
    return conn.execute("SELECT incident_id, decided_at FROM dispatch_decisions "
                        "ORDER BY id").fetchall()


class Recorder:
    def __init__(self) -> None:
        self.outcomes: list[Outcome | None] = []

    def __call__(self, outcome: Outcome | None) -> None:
        self.outcomes.append(outcome)


def test_an_incident_that_opened_and_cleared_in_one_batch_is_dispatched_once_at_event_time(
        database_url: str) -> None:
    seen = Recorder()
    follower = IncidentFollower(on_outcome=seen)
    with psycopg.connect(database_url, autocommit=True) as conn:
        dev = add_customer_device(conn, "a")
        # the rules saw it open and clear within one batch: one change, "auto_cleared"
        blip = drain_fault(dev, T0, state="auto_cleared", updated=T0 + timedelta(minutes=3))
        store(conn, "auto_cleared", blip)
        assert follower.step(conn)
        assert [(k, at) for k, at in decisions(conn)] == [
            (blip.key, T0 + timedelta(minutes=3))]  # its event time, not the wall clock
        # a later change of the same incident is not its opening: nothing more to decide
        store(conn, "resolved", drain_fault(dev, T0, state="resolved", version=2,
                                            updated=T0 + timedelta(hours=1)))
        assert follower.step(conn)
        assert not follower.step(conn)
        assert len(decisions(conn)) == 1
    assert len(seen.outcomes) == 1 and seen.outcomes[0] is not None
    assert not seen.outcomes[0].duplicate


def test_a_follower_started_again_continues_from_the_saved_position(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        a, b = add_customer_device(conn, "a"), add_customer_device(conn, "b")
        store(conn, "opened", drain_fault(a, T0))
        first = Recorder()
        assert IncidentFollower(on_outcome=first).step(conn)
        # the process died after the decision; the next one must not decide it again, and
        # must decide what was stored while none ran
        store(conn, "opened", drain_fault(b, T0 + timedelta(minutes=5)))
        second = Recorder()
        again = IncidentFollower(on_outcome=second)
        assert again.step(conn)
        assert not again.step(conn)
        keys = [k for k, _ in decisions(conn)]
    assert len(first.outcomes) == len(second.outcomes) == 1
    assert keys == [f"{a}:E21:{int(T0.timestamp() * 1000)}",
                    f"{b}:E21:{int((T0 + timedelta(minutes=5)).timestamp() * 1000)}"]


def test_caught_up_is_only_claimed_by_a_read_that_left_nothing_behind(
        database_url: str) -> None:
    follower = IncidentFollower(limit=2)
    with psycopg.connect(database_url, autocommit=True) as conn:
        devs = [add_customer_device(conn, s) for s in "abc"]
        for k, dev in enumerate(devs):
            store(conn, "opened", drain_fault(dev, T0 + timedelta(minutes=k)))
        before = time.monotonic()
        assert follower.step(conn)  # two of three: a read that stopped at its limit
        assert follower.caught_up_at < before
        assert follower.step(conn)
        assert follower.caught_up_at >= before
    assert len(decisions_of(database_url)) == 3


def decisions_of(url: str) -> list[tuple[str, datetime]]:
    with psycopg.connect(url) as conn:
        return decisions(conn)


class SettableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_dispatch_loop_decides_when_woken_and_sends_by_the_clock_it_is_given(
        database_url: str) -> None:
    clock = SettableClock(T0 - timedelta(days=1))  # event time, long before the wall clock
    seen = Recorder()
    follower = IncidentFollower(on_outcome=seen)
    stop, wake = threading.Event(), threading.Event()
    with SmtpSink() as sink, psycopg.connect(database_url, autocommit=True) as conn:
        dev = add_customer_device(conn, "a")
        t = threading.Thread(target=run_dispatch, args=(database_url, stop), kwargs={
            "smtp": SmtpSettings(host="127.0.0.1", port=sink.port),
            "email": EmailSettings(base_url="http://fix.example", from_addr="fix@example.org",
                                   secret=b"test-secret-0123456789"),
            "clock": clock, "follower": follower, "wake": wake, "idle_s": 30.0},
            daemon=True)
        t.start()
        try:
            wait_for(lambda: follower.caught_up_at > 0, what="the first read")
            store(conn, "opened", drain_fault(dev, T0))
            wake.set()  # the loop waits 30 s when idle: only the wake can bring this in time
            wait_for(lambda: len(seen.outcomes) == 1, what="the decision", timeout=10)
            (send_at,) = conn.execute("SELECT send_at FROM email_outbox").fetchone()
            assert send_at >= T0
            time.sleep(1.0)
            wake.set()  # another pass of the sender, still before the email is due
            time.sleep(1.0)
            assert conn.execute("SELECT state FROM email_outbox").fetchone()[0] == "pending"
            clock.now = send_at + timedelta(minutes=1)
            wake.set()
            wait_for(lambda: conn.execute("SELECT state FROM email_outbox").fetchone()[0]
                     == "sent", what="the email sent once its time came", timeout=10)
        finally:
            stop.set()
            wake.set()
            t.join(30)
    assert not t.is_alive()
    assert len(sink.handler.raw) == 1
