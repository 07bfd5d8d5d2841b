"""Real services for tests: a PostgreSQL database per test and an MQTT broker per need."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from fixahead.mosquitto import mosquitto_binary, write_config


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on port {port} after {timeout}s") from None
            time.sleep(0.05)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """Create a uniquely named database on the admin URL's server; drop it afterwards (unless
    FIXAHEAD_TEST_KEEP_DATABASES is set, to look into a failed test's data)."""
    name = f"fxtest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    try:
        yield url
    finally:
        if os.environ.get("FIXAHEAD_TEST_KEEP_DATABASES"):
            print(f"kept database {name}")
        else:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def private_data() -> Path:
    """A data folder of its own for a test that starts embedded services; as root, one the
    services' own users (postgres, mosquitto) can reach."""
    base = Path("/var/lib/fixahead-test") if os.geteuid() == 0 else Path(tempfile.gettempdir())
    path = base / f"firstrun-{os.getpid()}-{free_port()}"
    path.mkdir(parents=True)
    path.chmod(0o755)
    return path


class Mosquitto:
    """A Mosquitto process started with the project's config on a free port."""

    def __init__(self, workdir: Path, **config: object) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.conf = write_config(workdir, port=self.port, **config)  # type: ignore[arg-type]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """mqtt:// URL of the broker."""
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        """Start the process and wait for its port."""
        with open(self.workdir / "mosquitto.log", "ab") as log:
            self.proc = subprocess.Popen(
                [mosquitto_binary() or "mosquitto", "-c", str(self.conf)],
                stdout=subprocess.DEVNULL, stderr=log,
            )
        wait_port(self.port)
        return self

    def reload(self) -> None:
        """SIGHUP: re-read password and ACL files."""
        assert self.proc is not None
        self.proc.send_signal(1)
        time.sleep(0.3)

    def stop(self) -> None:
        """Terminate the process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@contextmanager
def broker() -> Iterator[str]:
    """Mosquitto with the project's config when installed, else the embedded amqtt broker."""
    if mosquitto_binary():
        with tempfile.TemporaryDirectory(prefix="fxmq-") as tmp:
            m = Mosquitto(Path(tmp)).start()
            try:
                yield m.url
            finally:
                m.stop()
    else:
        from fixahead.embedded_mqtt import EmbeddedBroker

        b = EmbeddedBroker(free_port())
        url = b.start()
        try:
            yield url
        finally:
            b.stop()
