"""Keep the broker's accounts equal to the device registry, live, with no reload or signal.

The registry keeps only a hash of each device secret; Mosquitto's control API takes only
plaintext passwords. So whoever registers or rotates a device (and holds its new secret for
that moment) announces it to the broker (`announce`); the sync loop, woken by
`NOTIFY devices_changed`, does what needs no secret: it deletes (and so disconnects) revoked
and deleted devices, and a device whose secret changed but whose new secret the broker was
not given (its client's tag is stale after a grace second) is deleted too: it fails closed.
For the embedded amqtt broker the registry's hashes are enough: the sync rewrites its
password file, which the broker re-reads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from fixahead.brokercontrol import BrokerControl
from fixahead.dynsec import add_device, device_allowed, failed, remove_device, secret_tag

log = logging.getLogger(__name__)

CHUNK = 400  # control commands per message
GRACE_S = 1.0  # how long a rotated device's stale tag is tolerated (its announce may be late)
UNTOLD_S = 5.0  # a new device missing from the broker this long is reported (once)


def _registry(conn: psycopg.Connection, ids: list[str] | None) -> dict[str, str | None]:
    """Device id -> secret hash for active devices with one; None for every other id asked."""
    if ids is None:
        rows = conn.execute("SELECT device_id, secret_hash FROM devices "
                            "WHERE state = 'active' AND secret_hash IS NOT NULL").fetchall()
        return dict(rows)
    found = dict(conn.execute(
        "SELECT device_id, CASE WHEN state = 'active' THEN secret_hash END FROM devices "
        "WHERE device_id = ANY(%s)", (ids,)).fetchall())
    return {i: found.get(i) for i in ids}


def announce(conn: psycopg.Connection, control: BrokerControl, prefix: str,
             secrets: dict[str, str]) -> list[str]:
    """Give the broker these devices' new secrets (or remove them when no longer active);
    returns the device ids the broker refused."""
    hashes = _registry(conn, list(secrets))
    commands, owners = [], []
    for device_id, secret in secrets.items():
        stored = hashes.get(device_id)
        if stored is None or not device_allowed(device_id):
            batch = remove_device(device_id)
        else:
            batch = add_device(prefix, device_id, secret, stored)
        commands += batch
        owners += [device_id] * len(batch)
    responses: list[dict] = []
    for start in range(0, len(commands), CHUNK):  # the plugin rewrites its file per command
        responses += control.send(commands[start:start + CHUNK])
    bad = {i for i, r in enumerate(responses) if failed([r])}
    for i in sorted(bad):
        log.error("broker refused %s for %s: %s", responses[i].get("command"), owners[i],
                  responses[i].get("error"))
    return sorted({owners[i] for i in bad})


class MosquittoSync:
    """Reconciles Mosquitto's clients with the registry over the control API."""

    def __init__(self, control_url: str, prefix: str) -> None:
        self.control_url = control_url
        self.prefix = prefix
        self._control: BrokerControl | None = None
        self._stale: dict[str, float] = {}  # device -> when its stale tag was first seen
        self._untold: set[str] = set()  # registered devices the broker has no secret for
        self._absent: dict[str, float] = {}  # device -> when first seen missing

    def _broker(self) -> BrokerControl:
        if self._control is None:
            self._control = BrokerControl(self.control_url)
        return self._control

    def _clients(self) -> dict[str, str | None]:
        """Username -> text description of every client the plugin has."""
        answer = self._broker().send([{"command": "listClients", "verbose": True,
                                       "count": -1, "offset": 0}])[0]
        clients = answer.get("data", {}).get("clients", [])
        return {c["username"]: c.get("textdescription") for c in clients
                if "." not in c["username"]}  # dotted names are service accounts

    def sync(self, conn: psycopg.Connection, ids: list[str] | None) -> int:
        """Cut off what the registry no longer allows (all devices, or `ids`); how many."""
        wanted = _registry(conn, ids)
        have = self._clients()
        now = time.monotonic()
        remove = []
        for device_id in (have if ids is None else [i for i in ids if i in have]):
            stored = wanted.get(device_id)
            if stored is None:
                remove.append(device_id)
            elif have[device_id] != secret_tag(stored):
                first = self._stale.setdefault(device_id, now)
                if now - first >= GRACE_S:
                    log.warning("device %s: its new secret never reached the broker; cut off "
                                "until it is announced (rotate it again)", device_id)
                    remove.append(device_id)
            else:
                self._stale.pop(device_id, None)
        absent = [d for d, stored in wanted.items()
                  if stored is not None and d not in have and d not in self._untold]
        for device_id in absent:
            self._absent.setdefault(device_id, now)
        for device_id in [d for d in self._absent
                          if d in have or (ids is None and wanted.get(d) is None)]:
            del self._absent[device_id]  # announced meanwhile, or no longer wanted
        untold = sorted(d for d, first in self._absent.items() if now - first >= UNTOLD_S)
        if untold:
            log.warning("%d registered device(s) the broker was not given a secret for (%s%s): "
                        "they connect once announced (fixahead devices rotate) or after the "
                        "broker files are written again", len(untold), ", ".join(untold[:5]),
                        ", ..." if len(untold) > 5 else "")
            self._untold.update(untold)
            for d in untold:
                del self._absent[d]
        commands = [c for d in remove for c in remove_device(d)]
        for r in failed(self._broker().send(commands)):
            log.error("broker refused %s: %s", r.get("command"), r.get("error"))
        for d in remove:
            self._stale.pop(d, None)
        return len(remove)

    @property
    def pending(self) -> bool:
        """Whether a stale tag or a missing device awaits its grace period."""
        return bool(self._stale or self._absent)

    def close(self) -> None:
        """Disconnect from the broker."""
        if self._control is not None:
            self._control.close()
            self._control = None


class PasswordFileSync:
    """Rewrites the embedded broker's password file when the registry changed."""

    def __init__(self, out_dir: Path, prefix: str) -> None:
        self.out_dir = out_dir
        self.prefix = prefix
        self.pending = False

    def sync(self, conn: psycopg.Connection, ids: list[str] | None) -> int:
        """Rewrite the files if the accounts changed; 1 if they did."""
        from fixahead.broker_auth import refresh_auth_files

        return int(refresh_auth_files(conn, self.out_dir, prefix=self.prefix))

    def close(self) -> None:
        """Nothing to close."""


def run_sync(database_url: str, target: MosquittoSync | PasswordFileSync,
             stop: threading.Event, *, full_every_s: float = 30.0,
             ready: Callable[[], None] | None = None) -> None:
    """Apply registry changes to the broker as `NOTIFY devices_changed` announces them, and
    compare everything every `full_every_s`, until `stop` is set."""
    last_full = 0.0
    while not stop.is_set():
        try:
            with psycopg.connect(database_url, autocommit=True) as conn, \
                    psycopg.connect(database_url, autocommit=True) as listen:
                listen.execute("LISTEN devices_changed")
                if ready is not None:
                    ready()
                    ready = None
                while not stop.is_set():
                    changed = {n.payload for n in listen.notifies(
                        timeout=0.25 if target.pending else 0.5, stop_after=1)}
                    changed |= {n.payload for n in listen.notifies(timeout=0.01)}
                    if time.monotonic() - last_full > full_every_s:
                        target.sync(conn, None)
                        last_full = time.monotonic()
                    elif changed or target.pending:
                        target.sync(conn, sorted(changed) if not target.pending else None)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            log.warning("broker sync: %s; retrying in 2 s", exc)
            target.close()
            stop.wait(2.0)
    target.close()
