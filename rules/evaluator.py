"""Columnar evaluation of a compiled rule set over per-device state arrays.

Devices (int32 keys, as in telemetry) get slots on `assign`; all their state is the row
`st[slot]`: last seen, the watermark of each metric, then predicates and rules (see
`CompiledRules`). Slot 0 is reserved for devices no one
assigned: their readings are counted and skipped. Evaluation returns `Transitions`: the
rules that turned on or off, as columns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rules.compiler import CompiledRules
from rules.config import GAP_RESET_MS
from rules.kernels.batch import evaluate
from rules.kernels.order import device_time_ordered
from rules.kernels.predicates import RATE, RATE_WHILE, STUCK, THRESHOLD, TREND_SUMS
from rules.kernels.program import STACK_DEPTH
from rules.kernels.timed import events, tick

NO_TIME = np.iinfo(np.int64).min
# ms of [since, until] the platform was not listening, per pair (`rules.listening.Listening`)
Unheard = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Transitions:
    """Rules that flipped: one row per flip, in evaluation order."""

    device: np.ndarray   # int32
    rule: np.ndarray     # int64 index into CompiledRules.rules
    ts_ms: np.ndarray    # int64
    on: np.ndarray       # int8: 1 turned on, 0 turned off
    value: np.ndarray    # float64: the reading that flipped it (NaN for time/event driven)
    score: np.ndarray    # float64: the flipping predicate's score (z, days, count, ...)
    metric: np.ndarray   # int16: the reading's metric id (-1 for time/event driven)

    def __len__(self) -> int:
        return int(self.device.shape[0])


def _rows(template: np.ndarray, n: int) -> np.ndarray:
    """n copies of a state row, the first starting on a 64-byte boundary: with the compiler's
    whole-line widths every row then starts a cache line, and a device's state takes the
    fewest lines."""
    width = template.shape[0]
    buf = np.empty(n * width + 8)
    skip = (-buf.ctypes.data % 64) // 8
    st = buf[skip:skip + n * width].reshape(n, width)
    st[:] = template
    return st


def _concat(parts: list[Transitions]) -> Transitions:
    if len(parts) == 1:
        return parts[0]
    return Transitions(*[np.concatenate(cols) for cols in zip(
        *[(p.device, p.rule, p.ts_ms, p.on, p.value, p.score, p.metric) for p in parts],
        strict=True)])


class _Out:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.cols = [np.empty(cap, np.int32), np.empty(cap, np.int64), np.empty(cap, np.int64),
                     np.empty(cap, np.int8), np.empty(cap), np.empty(cap),
                     np.empty(cap, np.int16)]


class Evaluator:
    """Per-device rule state and the kernels that advance it."""

    def __init__(self, compiled: CompiledRules, capacity: int = 1024) -> None:
        self.c = compiled
        self.templates = compiled.templates()
        self.st = _rows(self.templates[-1], capacity)
        # compact per-slot arrays, so that a tick over every device stays in cache
        self.seen = np.full(capacity, -1.0)        # last reading time (ms), -1: never
        self.tbits = np.zeros(capacity, np.int64)  # silent predicates that are on
        self.due = np.full(capacity, np.inf)       # when an error count may next drop
        self.slot_model = np.full(capacity, -1, np.int32)
        self.slot_device = np.full(capacity, -1, np.int32)
        self.slot_of = np.zeros(1024, np.int32)
        self.n_slots = 1  # slot 0: unassigned devices
        self.counters = np.zeros(2, np.int64)  # late samples, skipped (unknown/NaN)
        self.stack = np.zeros(STACK_DEPTH, np.int64)
        self._out = _Out(1 << 16)
        self._sequence_cols = self._sequence_columns()

    @property
    def late_samples(self) -> int:
        """Readings at or before their (device, metric) watermark, not fed to predicates."""
        return int(self.counters[0])

    def fingerprint(self) -> str:
        """A digest of the compiled layout: checkpoints only restore into the same one."""
        h = hashlib.sha256()
        p = self.c.program
        for a in (p.kind, p.prm, p.pred_off, p.rule_off, p.prog):
            h.update(np.ascontiguousarray(a).tobytes())
        h.update(",".join(self.c.models).encode())
        return h.hexdigest()[:16]

    def _grow(self, need: int) -> None:
        cap = self.st.shape[0]
        if need <= cap:
            return
        new = max(need, 2 * cap)
        pad = new - cap
        st = _rows(self.templates[-1], new)
        st[:cap] = self.st
        self.st = st
        self.seen = np.concatenate([self.seen, np.full(pad, -1.0)])
        self.tbits = np.concatenate([self.tbits, np.zeros(pad, np.int64)])
        self.due = np.concatenate([self.due, np.full(pad, np.inf)])
        self.slot_model = np.concatenate([self.slot_model, np.full(pad, -1, np.int32)])
        self.slot_device = np.concatenate([self.slot_device, np.full(pad, -1, np.int32)])

    def assign(self, devices: np.ndarray, models: list[str]) -> None:
        """Give devices (int keys) slots for their models; an assigned device keeps its state."""
        devices = np.asarray(devices, np.int64)
        if devices.size and devices.max() >= self.slot_of.shape[0]:
            bigger = np.zeros(max(int(devices.max()) + 1, 2 * self.slot_of.shape[0]), np.int32)
            bigger[:self.slot_of.shape[0]] = self.slot_of
            self.slot_of = bigger
        fresh = list({int(d): m for d, m in zip(devices.tolist(), models, strict=True)
                      if self.slot_of[d] == 0}.items())  # once per device, last model wins
        if not fresh:
            return
        self._grow(self.n_slots + len(fresh))
        slots = np.arange(self.n_slots, self.n_slots + len(fresh))
        idx = np.array([self.c.model_index(m) for _, m in fresh], np.int32)
        self.slot_of[[d for d, _ in fresh]] = slots
        self.slot_model[slots] = idx
        self.slot_device[slots] = [d for d, _ in fresh]
        self.st[slots] = self.templates[idx]
        self.n_slots += len(fresh)

    def slots(self, device: np.ndarray) -> np.ndarray:
        """Slot of each device key (0 when unassigned)."""
        device = np.asarray(device)
        inside = (device >= 0) & (device < self.slot_of.shape[0])
        return np.where(inside, self.slot_of[np.where(inside, device, 0)], 0).astype(np.int32)

    def _collect(self, run, end: int) -> Transitions:
        parts: list[list[np.ndarray]] = []
        start = 0
        while True:
            out = self._out
            start, n = run(start, *out.cols)
            if n:
                parts.append([col[:n].copy() for col in out.cols])
            if start >= end:
                break
            if n == 0:  # cannot even fit one reading's flips: grow
                self._out = _Out(out.cap * 2)
        if not parts:
            return Transitions(*[col[:0].copy() for col in self._out.cols])
        cols = [np.concatenate(p) if len(p) > 1 else p[0] for p in zip(*parts, strict=True)]
        cols[0] = self.slot_device[cols[0]]
        return Transitions(*cols)

    def evaluate(self, ts_ms: np.ndarray, device: np.ndarray, metric: np.ndarray,
                 value: np.ndarray, unheard: Unheard | None = None) -> Transitions:
        """Feed a batch of readings in time order per device (stably sorted when it is not:
        ingest commits rows by device and metric, and a rule over two metrics must see them
        as they happened). With `unheard`, a reading that follows its device's previous one
        across a gap in listening restarts the device's pending durations first."""
        ts = np.ascontiguousarray(ts_ms, np.int64)
        dev = np.ascontiguousarray(device, np.int32)
        mt = np.ascontiguousarray(metric, np.int16)
        val = np.ascontiguousarray(value, np.float64)
        if not device_time_ordered(ts, dev, self.slot_of):
            order = np.lexsort((ts, dev))
            ts, dev, mt, val = ts[order], dev[order], mt[order], val[order]
        if unheard is None or not ts.shape[0] or not self._gap_within(ts, dev, unheard):
            return self._run(ts, dev, mt, val)
        rows, first = self._after_gaps(ts, dev, unheard)
        if not rows.size:
            return self._run(ts, dev, mt, val)
        self.forget_sequences(self.slots(dev[rows[first]]))
        # a device heard on both sides of a gap within this batch: cut the batch there
        cuts = np.sort(rows[~first]).tolist()
        parts = []
        for a, b in zip([0, *cuts], [*cuts, ts.shape[0]], strict=True):
            if a:
                self.forget_sequences(self.slots(dev[a:a + 1]))
            parts.append(self._run(ts[a:b], dev[a:b], mt[a:b], val[a:b]))
        return _concat(parts)

    def _run(self, ts: np.ndarray, dev: np.ndarray, mt: np.ndarray,
             val: np.ndarray) -> Transitions:
        return self._collect(lambda start, *o: evaluate(
            ts, dev, mt, val, start, self.slot_of, self.slot_model, self.seen, self.st,
            self.c.program, self.stack, self.counters, *o), ts.shape[0])

    def _gap_within(self, ts: np.ndarray, dev: np.ndarray, unheard: Unheard) -> bool:
        """Whether a gap could lie between any reading and its device's previous one: the
        usual batch, with none since its devices were last heard, skips the sort below."""
        seen = self.seen[self.slots(dev)]
        seen = seen[seen >= 0]
        lo = min(float(ts.min()), float(seen.min())) if seen.size else float(ts.min())
        return bool(unheard(np.array([lo]), np.array([float(ts.max())]))[0] >= GAP_RESET_MS)

    def _after_gaps(self, ts: np.ndarray, dev: np.ndarray, unheard: Unheard
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows (in the batch's order) whose reading follows the device's previous one (in
        this batch, or the last before it) across `GAP_RESET_MS` or more of unheard time, and
        whether each is its device's first row in the batch."""
        order = np.argsort(dev, kind="stable")
        d, t = dev[order], ts[order].astype(np.float64)
        first = np.ones(d.shape[0], np.bool_)
        first[1:] = d[1:] != d[:-1]
        prev = np.empty(d.shape[0])
        prev[1:] = t[:-1]
        prev[first] = self.seen[self.slots(d[first])]
        gap = unheard(prev, t) >= GAP_RESET_MS
        return order[gap], first[gap]

    def _sequence_columns(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per model index: the columns of pending starts and previous samples (threshold,
        rate, rate_while), and the flag columns of stuck predicates."""
        kind, off = self.c.program.kind, self.c.program.pred_off
        cols: list[tuple[list[int], list[int]]] = [([], []) for _ in range(len(self.c.models))]
        for p, m in enumerate(self.c.pred_model.tolist()):
            if kind[p] in (THRESHOLD, RATE, RATE_WHILE):
                cols[m][0].append(int(off[p]) + 2)
            elif kind[p] == STUCK:
                cols[m][1].append(int(off[p]))
        return [(np.array(a, np.int64), np.array(b, np.int64)) for a, b in cols]

    def forget_sequences(self, slots: np.ndarray) -> None:
        """Restart what these slots' predicates carry from one reading to the next (a
        threshold's pending start, a rate's previous sample, an inactive stuck run), as after
        a gap in which readings may have been lost; active flags stay."""
        slots = np.unique(np.asarray(slots, np.int64))
        slots = slots[slots > 0]
        models = self.slot_model[slots]
        for m in np.unique(models[models >= 0]).tolist():
            ss = slots[models == m]
            pending, stuck = self._sequence_cols[m]
            if pending.size:
                self.st[np.ix_(ss, pending)] = np.nan
            for o in stuck.tolist():
                idle = ss[self.st[ss, o] == 0.0]
                self.st[idle, o + 2] = np.nan
                self.st[idle, o + 3] = 0.0
                self.st[idle, o + 4] = 0.0

    def tick(self, now_ms: int, seen: np.ndarray | None = None) -> Transitions:
        """Advance time-driven predicates (silent, error-count expiry) to event time now_ms;
        `seen` (default: the last reading times) is what silence is measured from."""
        c = self.c.program
        sm = self.slot_model[:self.n_slots]
        since = self.seen if seen is None else np.ascontiguousarray(seen, np.float64)
        return self._collect(lambda start, *o: tick(
            now_ms, start, sm, since, self.tbits, self.due, self.st, c.kind, c.prm,
            c.pred_off, c.mt_start, c.mt_preds, c.pr_start, c.pr_rules, c.prog, c.prog_start,
            c.prog_len, c.rule_off, c.max_rules, self.stack, *o), self.n_slots)

    def errors(self, ts_ms: np.ndarray, device: np.ndarray, codes: list[str]) -> Transitions:
        """Feed error-code events to the error_count predicates."""
        c = self.c.program
        ts = np.ascontiguousarray(ts_ms, np.int64)
        slot = self.slots(device)
        known = self.c.codes
        idx = np.array([known.index(k) if k in known else -1 for k in codes], np.int64)
        return self._collect(lambda start, *o: events(
            ts, slot, idx, start, self.slot_model, self.due, self.st, c.kind, c.prm, c.pred_off,
            c.mt_start, c.mt_preds, c.pr_start, c.pr_rules, c.prog, c.prog_start,
            c.prog_len, c.rule_off, c.max_rules, self.stack, *o), ts.shape[0])

    def active_rules(self, device: int) -> list[int]:
        """Indexes of the rules currently on for a device."""
        s = int(self.slots(np.array([device]))[0])
        if not s:
            return []
        m = int(self.slot_model[s])
        rule_off = self.c.program.rule_off
        return [r for r, rule in enumerate(self.c.rules)
                if self.c.models[m] == rule.model and self.st[s, rule_off[r]] != 0.0]

    def trend_sums(self, device: int, pred: int) -> tuple[float, ...] | None:
        """A trend predicate's least-squares sums for a device (`TREND_SUMS`), None while it
        is off or the device is unassigned."""
        s = int(self.slots(np.array([device]))[0])
        o = int(self.c.program.pred_off[pred])
        if not s or self.st[s, o] == 0.0:
            return None
        return tuple(float(self.st[s, o + j]) for j in TREND_SUMS)

    def export(self, devices: np.ndarray) -> list[tuple[int, bytes]]:
        """Each assigned device's state (row, last seen, timed bits, due) as bytes."""
        slots = self.slots(devices)
        return [(int(d), self.st[s].tobytes()
                 + np.array([self.seen[s], self.tbits[s], self.due[s]]).tobytes())
                for d, s in zip(np.asarray(devices).tolist(), slots.tolist(), strict=True) if s]

    def restore(self, rows: list[tuple[int, bytes]]) -> None:
        """Load states from `export` into already assigned devices."""
        for d, blob in rows:
            s = int(self.slots(np.array([d]))[0])
            if s:
                a = np.frombuffer(blob, np.float64)
                self.st[s] = a[:-3]
                self.seen[s], self.due[s] = a[-3], a[-1]
                self.tbits[s] = int(a[-2])
