"""A rules worker's I/O around the pure Engine: registry look-ups, incidents, checkpoints.

The composition root creates one per process and hands it each committed batch. With
several workers, each takes leases on some of the `partitions` (device % partitions) and
evaluates only its own devices; state checkpoints are fenced by the lease epoch, so a worker
that lost a partition cannot overwrite its successor's state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import numpy as np
import psycopg

from devices.contracts import EventRow
from rules import commandstore
from rules.commands import Command, Refused, refusal
from rules.engine import Engine
from rules.incidents import IncidentChange
from rules.store import (
    LeaseLost,
    acquire_lease,
    load_checkpoint,
    load_mutes,
    load_open,
    release_lease,
    save_changes,
    save_checkpoint,
)

log = logging.getLogger(__name__)


class RulesService:
    """Feeds committed batches to an Engine and persists what comes out."""

    def __init__(self, conn: psycopg.Connection, engine: Engine, *, owner: str,
                 partitions: int = 1, lease_s: float = 30.0,
                 checkpoint_every_s: float = 10.0) -> None:
        self.conn = conn
        self.engine = engine
        self.owner = owner
        self.partitions = partitions
        self.lease_s = lease_s
        self.checkpoint_every_s = checkpoint_every_s
        self.epochs: dict[int, int] = {}
        self._last_checkpoint = time.monotonic()

    def claim(self) -> list[int]:
        """Take every free partition (restoring its checkpoint); return those newly held."""
        new = []
        for part in range(self.partitions):
            epoch = acquire_lease(self.conn, part, self.owner, self.lease_s)
            if epoch is None:
                self.epochs.pop(part, None)
                continue
            if self.epochs.get(part) != epoch:
                self.epochs[part] = epoch
                new.append(part)
                self._restore(part)
        return new

    def _restore(self, part: int) -> None:
        states, reached = load_checkpoint(self.conn, part, self.engine.layout())
        if states:
            self._ensure([d for d, _ in states])
            self.engine.restore(states, reached)
        devices = [d for d in self.engine.devices() if d % self.partitions == part]
        for inc in load_open(self.conn, devices):
            self.engine.adopt(inc)
        self.engine.set_mutes(load_mutes(self.conn, devices), add=True)

    def _ensure(self, devices: Iterable[int]) -> None:
        unknown = sorted({int(d) for d in devices} - set(self.engine.devices()))
        if not unknown:
            return
        rows = self.conn.execute("SELECT id, model_id FROM devices WHERE id = ANY(%s)",
                                 (unknown,)).fetchall()
        if rows:
            self.engine.assign([r[0] for r in rows], [r[1] for r in rows])

    def _mine(self, device: np.ndarray) -> np.ndarray:
        held = np.zeros(self.partitions, bool)
        held[list(self.epochs)] = True
        return held[np.asarray(device, np.int64) % self.partitions]

    def handle(self, ts_ms: np.ndarray, device: np.ndarray, metric: np.ndarray,
               value: np.ndarray, events: Iterable[EventRow] = ()) -> list[IncidentChange]:
        """Evaluate a committed batch (only this worker's devices) and store the changes."""
        done = self.apply_commands()
        keep = self._mine(device)
        ts_ms, device, metric, value = ts_ms[keep], device[keep], metric[keep], value[keep]
        events = [EventRow(*e) for e in events if e[1] % self.partitions in self.epochs]
        self._ensure(np.unique(device).tolist() + [e.device for e in events])
        changes = self.engine.process(ts_ms, device, metric, value, events)
        with self.conn.transaction():
            save_changes(self.conn, changes)
        if time.monotonic() - self._last_checkpoint >= self.checkpoint_every_s:
            self.checkpoint()
        return done + changes

    def apply_commands(self) -> list[IncidentChange]:
        """Apply people's pending commands for this worker's devices to the book, and store
        the incidents they change, each command in its own transaction."""
        out: list[IncidentChange] = []
        for cmd in commandstore.pending(self.conn, self.partitions, list(self.epochs)):
            self._ensure([cmd.device])
            with self.conn.transaction():
                why = self._adopt_for(cmd)
                changes: list[IncidentChange] = []
                if why is None:
                    try:
                        changes = self.engine.command(cmd)
                    except Refused as e:
                        why = str(e)
                save_changes(self.conn, changes)
                commandstore.settle(self.conn, cmd, refused=why)
            out += changes
        return out

    def _adopt_for(self, cmd: Command) -> str | None:
        """Make sure the book holds the command's incident if the table has it open (a
        device this worker has not seen yet); why the command is refused, if it must be."""
        if cmd.command == "snooze" or self.engine.holds(cmd.key):
            return None
        state = commandstore.incident_state(self.conn, cmd.key)
        if state is None:
            return f"there is no incident {cmd.key!r}"
        for inc in load_open(self.conn, [cmd.device]):
            if inc.key == cmd.key:
                self.engine.adopt(inc)
                return None
        return refusal(cmd.key, cmd.command, state) or f"incident {cmd.key} is {state}"

    def checkpoint(self) -> None:
        """Renew leases, save the state of every held partition's devices, and pick up
        snoozes and maintenance windows added since."""
        self._last_checkpoint = time.monotonic()
        mine = [d for d in self.engine.devices() if d % self.partitions in self.epochs]
        self.engine.set_mutes(load_mutes(self.conn, mine))
        layout = self.engine.layout()
        for part, epoch in list(self.epochs.items()):
            devices = np.array([d for d in self.engine.devices() if d % self.partitions == part],
                               dtype=np.int64)
            try:
                if acquire_lease(self.conn, part, self.owner, self.lease_s) != epoch:
                    raise LeaseLost(f"partition {part} changed hands")
                save_checkpoint(self.conn, part, self.owner, epoch, layout,
                                self.engine.export(devices), self.engine.now_ms)
            except LeaseLost:
                log.warning("lost partition %d; dropping it", part)
                del self.epochs[part]

    def close(self) -> None:
        """Checkpoint and hand the partitions back."""
        self.checkpoint()
        for part in list(self.epochs):
            release_lease(self.conn, part, self.owner)
        self.epochs.clear()
