"""A synchronous QoS 1 publisher for tests, a worker running on a thread, and a collecting
subscriber."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.brokerurl import parse_broker_url
from ingest.worker import IngestConfig, IngestWorker


class Publisher:
    """Publish with QoS 1 and wait until the broker has acknowledged everything."""

    def __init__(self, url: str, client_id: str = "", username: str | None = None,
                 password: str | None = None, protocol: int = mqtt.MQTTv311,
                 clean_session: bool | None = None) -> None:
        addr = parse_broker_url(url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=protocol, clean_session=clean_session)
        self.client.max_inflight_messages_set(0)
        self.client.max_queued_messages_set(0)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.connect(addr.host, addr.port)
        self.client.loop_start()

    def publish_all(self, messages: Iterable[tuple[str, bytes]], timeout: float = 60) -> int:
        """Publish every (topic, payload) and wait for their PUBACKs; return the count."""
        infos = [self.client.publish(t, p, qos=1) for t, p in messages]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            if not info.is_published():
                raise TimeoutError("broker did not acknowledge a publish in time")
        return len(infos)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def running_worker(config: IngestConfig, **kwargs: object) -> Iterator[IngestWorker]:
    """Run an ingest worker on a thread for the duration of the block."""
    worker = IngestWorker(config, **kwargs)  # type: ignore[arg-type]
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            worker.run(stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="ingest-worker", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not worker.ready.wait(0.1):
        if errors or time.monotonic() > deadline:
            stop.set()
            thread.join(10)
            raise errors[0] if errors else TimeoutError("ingest worker did not subscribe")
    try:
        yield worker
    finally:
        stop.set()
        thread.join(30)
        if errors:
            raise errors[0]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1,  # type: ignore[no-untyped-def]
             what: str = "condition", show=None):
    """Poll `predicate` until it returns a truthy value; fail after `timeout` seconds (with
    what `show()` returns then, if given)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = show() if show is not None else value
            raise AssertionError(f"timed out after {timeout}s waiting for {what} ({seen!r})")
        time.sleep(interval)


class Collector:
    """A plain paho subscriber that keeps every (topic, payload) it receives."""

    def __init__(self, url: str, prefix: str) -> None:
        addr = parse_broker_url(url)
        self.got: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{prefix}/#", qos=1)
        self.client.on_subscribe = lambda c, u, mid, rc, p: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect(addr.host, addr.port)
        self.client.loop_start()
        assert self.ready.wait(10), "subscriber did not subscribe"

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.got.append((msg.topic, msg.payload))

    def wait_for(self, n: int, timeout: float = 60) -> list[tuple[str, bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.got) >= n:
                    time.sleep(0.3)  # anything extra (a bug) would show up now
                    return list(self.got)
            time.sleep(0.05)
        raise AssertionError(f"received {len(self.got)} of {n} messages")

    def snapshot(self) -> list[tuple[str, bytes]]:
        with self.lock:
            return list(self.got)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
