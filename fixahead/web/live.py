"""Live board updates: PostgreSQL NOTIFY (from the trigger on `visits`) fanned out to every
open board of this process through asyncio queues. Changes made by other processes (the
dispatch worker, customers' clicks, another web process) arrive the same way."""

from __future__ import annotations

import asyncio
import logging
import threading

import psycopg

log = logging.getLogger(__name__)
CHANNEL = "fixahead_visits"


class Hub:
    """Subscribers are asyncio queues, each with its loop; publishing is thread-safe."""

    def __init__(self, max_queue: int = 100) -> None:
        self._subs: dict[asyncio.Queue[str], asyncio.AbstractEventLoop] = {}
        self._lock = threading.Lock()
        self.max_queue = max_queue

    def subscribe(self) -> asyncio.Queue[str]:
        """A new queue on the running loop that receives every published message."""
        queue: asyncio.Queue[str] = asyncio.Queue(self.max_queue)
        with self._lock:
            self._subs[queue] = asyncio.get_running_loop()
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        """Stop delivering to `queue`."""
        with self._lock:
            self._subs.pop(queue, None)

    def publish(self, message: str) -> None:
        """Deliver to every subscriber (a full queue drops it: that board is far behind)."""
        with self._lock:
            subs = list(self._subs.items())
        for queue, loop in subs:
            def put(q: asyncio.Queue[str] = queue) -> None:
                if not q.full():
                    q.put_nowait(message)
            try:
                loop.call_soon_threadsafe(put)
            except RuntimeError:  # that loop is closed
                self.unsubscribe(queue)

    @property
    def subscribers(self) -> int:
        """How many boards are listening."""
        with self._lock:
            return len(self._subs)


class Listener:
    """A thread that LISTENs on the visits channel and publishes to a Hub; reconnects."""

    def __init__(self, database_url: str, hub: Hub, channel: str = CHANNEL) -> None:
        self.database_url = database_url
        self.hub = hub
        self.channel = channel
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="web-listen", daemon=True)

    def start(self) -> Listener:
        """Start listening (returns once LISTEN is in place, or after 5 s)."""
        self._thread.start()
        self.ready.wait(5)
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    self.ready.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self.hub.publish(note.payload)
            except psycopg.Error as exc:
                log.warning("live updates: %s; reconnecting", exc)
                self._stop.wait(1.0)

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(5)
