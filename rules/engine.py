"""The rule engine: committed batches in, incident changes out (pure; no I/O).

`Engine.process` evaluates telemetry columns with the compiled kernels, feeds error-code
events both to error_count rules and straight to incidents through the catalog, re-checks
time-driven rules as event time advances, and runs the incident lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from devices.catalog import Model
from devices.contracts import EventRow
from rules.commands import Command
from rules.commands import apply as apply_command
from rules.compiler import CompiledRules
from rules.config import TICK_EVERY_MS
from rules.evaluator import Evaluator, Transitions
from rules.generic import GenericDetector
from rules.incidents import Incident, IncidentBook, IncidentChange, Life, Policy, Signal
from rules.kernels.predicates import TREND
from rules.listening import Listening
from rules.remaining_life import trend_life

CLOCK_PERCENTILE = 5  # of a batch's timestamps: where the engine's event clock moves to


def _title(template: str, score: float) -> str:
    if "{days}" in template:
        days = "?" if not np.isfinite(score) else str(max(1, round(float(score))))
        return template.replace("{days}", days)
    return template


def collapse(changes: list[IncidentChange]) -> list[IncidentChange]:
    """One change per incident per batch: its latest state, named by its first change when
    that opened it (an error event and the rule counting it arrive together)."""
    out: dict[str, IncidentChange] = {}
    for c in changes:
        first = out.get(c.incident.key)
        name = first.change if first and first.change in ("opened", "reopened") else c.change
        if first and c.change in ("auto_cleared", "resolved"):
            name = c.change
        inc = c.incident
        if name in ("opened", "reopened") and inc.state == "updated":
            inc = replace(inc, state="open")
        out.pop(inc.key, None)
        out[inc.key] = IncidentChange(name, inc)
    return list(out.values())


def batch_time(ts_ms: np.ndarray, event_ms: list[int]) -> int:
    """The event time a batch moves the engine's clock to: the 5th percentile of its
    timestamps (the lower neighbour, so always one of them).

    Not the maximum: one device with its clock hours ahead would otherwise make every other
    device look silent at once. Not the median either: a batch committed while ingest catches
    up (after an outage, or a simulated fleet published at many times real time) can span
    many hours of event time, and a device whose next message is in the next batch would
    look silent against the middle of this one. The low percentile lags the newest reading
    by about a batch's span (milliseconds in real time), which no time-driven rule here is
    sensitive to.
    """
    stamps = np.concatenate([np.asarray(ts_ms, np.int64), np.asarray(event_ms, np.int64)])
    step = max(1, len(stamps) // 1024)  # a strided sample keeps this O(1) per batch
    return int(np.percentile(stamps[::step], CLOCK_PERCENTILE, method="lower"))


class Engine:
    """Per-device rule state and incidents for the devices assigned to it."""

    def __init__(self, compiled: CompiledRules, catalog: dict[str, Model],
                 policy: Policy | None = None, *, generic: bool = False) -> None:
        self.compiled = compiled
        self.catalog = catalog
        self.evaluator = Evaluator(compiled)
        # the generic detector on every metric no rule covers (off unless asked for)
        self.generic = GenericDetector(compiled, catalog) if generic else None
        self.book = IncidentBook(policy or Policy())
        self.model_of: dict[int, str] = {}
        self.now_ms = 0
        self._ticked_ms = 0
        # the platform's trusted clock (None: unbounded) and when it was listening (None:
        # always); see docs/rules.md, "The clock"
        self.trusted_ms: int | None = None
        self.listening: Listening | None = None
        # the action a fault leads to: from the rules that confirm it, else by severity
        self._action = {(r.model, r.fault): r.action for r in compiled.rules
                        if r.meaning == "confirmation"}
        # the trend predicates of each prediction rule: its remaining-life estimate
        kinds = compiled.program.kind.tolist()
        self._trends: dict[int, list[int]] = {}
        for p, r in enumerate(compiled.pred_rule.tolist()):
            if kinds[p] == TREND and compiled.rules[r].meaning == "prediction":
                self._trends.setdefault(r, []).append(p)

    @property
    def late_samples(self) -> int:
        """Readings at or before their (device, metric) watermark (stored, not evaluated)."""
        return self.evaluator.late_samples

    def assign(self, devices: Sequence[int] | np.ndarray, models: Sequence[str]) -> None:
        """Tell the engine which model each device is (caller-supplied mapping)."""
        self.evaluator.assign(np.asarray(devices, np.int64), list(models))
        self.model_of.update(zip((int(d) for d in devices), models, strict=True))

    def trust(self, now_ms: int | None, listening: Listening | None = None) -> None:
        """Bound the event clock by the trusted clock and judge silence only over the time
        the platform listened (both from the composition root)."""
        self.trusted_ms = now_ms
        self.listening = listening
        if now_ms is not None and self.now_ms > now_ms:
            # a clock ahead of trusted time (a checkpoint restored from another run of the
            # same window, a clock moved before trust was given) goes back to it
            self.now_ms = now_ms
            self._ticked_ms = min(self._ticked_ms, now_ms)

    def _clock(self, ms: int) -> None:
        if self.trusted_ms is not None:
            ms = min(ms, self.trusted_ms)  # devices and draining cannot move it past trust
        self.now_ms = max(self.now_ms, ms)

    def _tick(self) -> Transitions:
        ev = self.evaluator
        if self.listening is None:
            return ev.tick(self.now_ms)
        # silence counts listened time only: move each last-seen time forward by the time
        # since it that the platform was not listening
        return ev.tick(self.now_ms, ev.seen + self.listening.credit(ev.seen, self.now_ms))

    def life(self, device: int, rule: int, at_ms: int) -> Life | None:
        """The remaining life a prediction rule's active trends give a device now (the
        nearest, when several do); None when the rule has no trend on or no line fits."""
        best = None
        prm = self.compiled.program.prm
        for p in self._trends.get(rule, ()):
            sums = self.evaluator.trend_sums(device, p)
            est = None if sums is None else trend_life(
                *sums, limit=float(prm[p, 0]), sign=float(prm[p, 3]))
            if est is not None and (best is None or est["days"] < best.days):
                best = Life(est["days"], est["lo"], est["hi"], at_ms)
        return best

    def _signals(self, tr: Transitions) -> list[Signal]:
        out = []
        for d, r, ts, on, value, score, metric in zip(
                tr.device.tolist(), tr.rule.tolist(), tr.ts_ms.tolist(), tr.on.tolist(),
                tr.value.tolist(), tr.score.tolist(), tr.metric.tolist(), strict=True):
            rule = self.compiled.rules[r]
            reading = (("ts_ms", float(ts)), ("metric", float(metric)), ("value", value),
                       ("score", score))
            life = self.life(d, r, ts) if on and r in self._trends else None
            out.append(Signal(
                device=d, fault=rule.fault, source=rule.id, on=bool(on), ts_ms=ts,
                kind=rule.meaning, severity=rule.severity, action=rule.action,
                title=_title(rule.title, score if life is None else life.days),
                reading=reading, life=life))
        return out

    def _event_signal(self, ev: EventRow) -> Signal | None:
        ts, device, kind, code = ev.ts_ms, ev.device, ev.kind, ev.code
        title, severity, known = ev.title, ev.severity, ev.known
        model = self.catalog.get(self.model_of.get(device, ""))
        if not known or code is None or model is None or kind not in ("error", "cleared"):
            return None
        entry = next((c for c in model.codes if c.code == code), None)
        if entry is None:
            return None
        sev = severity or entry.severity
        action = self._action.get((model.id, code),
                                  "technician" if sev in ("error", "critical") else "self_help")
        return Signal(device=device, fault=code, source=f"code:{code}", on=kind == "error",
                      ts_ms=ts, kind="error", severity=sev, action=action,
                      title=title or entry.title, momentary=True,
                      reading=(("ts_ms", float(ts)), ("code", 0.0)))

    def process(self, ts_ms: np.ndarray, device: np.ndarray, metric: np.ndarray,
                value: np.ndarray, events: Iterable[EventRow] = ()) -> list[IncidentChange]:
        """Evaluate one committed batch; return the incident changes, in event-time order."""
        events = [EventRow(*e) for e in events if e[3] in ("error", "cleared")]
        if len(ts_ms) or events:
            self._clock(batch_time(ts_ms, [e.ts_ms for e in events]))
        signals: list[Signal] = []
        # Time-driven predicates first, at the batch's clock and with what had arrived
        # before it: a device is silent when the fleet has moved on by `for_s` since its last
        # reading that reached us. Its backlog may be in this very batch (held while it was
        # disconnected); judged after it, the outage would never show.
        if self.now_ms - self._ticked_ms >= TICK_EVERY_MS:
            signals += self._signals(self._tick())
            self._ticked_ms = self.now_ms
        # readings on both sides of a gap in listening are not one sequence
        unheard = None if self.listening is None else self.listening.unheard
        signals += self._signals(self.evaluator.evaluate(ts_ms, device, metric, value,
                                                         unheard))
        if self.generic is not None:
            signals += self.generic.process(ts_ms, device, metric, value, self.model_of)
        errors = [e for e in events if e.kind == "error" and e.code]
        if errors:
            signals += self._signals(self.evaluator.errors(
                np.array([e.ts_ms for e in errors], np.int64),
                np.array([e.device for e in errors], np.int64), [str(e.code) for e in errors]))
        signals += [s for s in map(self._event_signal, events) if s is not None]
        # a device flagged silent may have spoken in this batch: its flag clears now, not
        # once the clock next moves on
        if self._any_silent():
            signals += self._signals(self._tick())
        signals.sort(key=lambda s: s.ts_ms)
        changes: list[IncidentChange] = []
        for s in signals:
            changes += self.book.apply(s)
        changes += self.book.tick(self.now_ms)
        return collapse(changes)

    def _any_silent(self) -> bool:
        ev = self.evaluator
        return bool(ev.tbits[:ev.n_slots].any())

    def tick(self, now_ms: int) -> list[IncidentChange]:
        """Advance event time with no new data (silent devices, clean periods)."""
        self._clock(now_ms)
        self._ticked_ms = self.now_ms
        changes: list[IncidentChange] = []
        for s in sorted(self._signals(self._tick()), key=lambda s: s.ts_ms):
            changes += self.book.apply(s)
        return changes + self.book.tick(self.now_ms)

    def command(self, cmd: Command) -> list[IncidentChange]:
        """Apply a person's command to the incident book (raises commands.Refused)."""
        return apply_command(self.book, cmd)

    def holds(self, key: str) -> bool:
        """Whether an incident with this key is open in the book."""
        return any(inc.key == key for inc in self.book.open.values())

    def adopt(self, inc: Incident) -> None:
        """Take an open incident stored by an earlier worker into the book; the evidence still
        on is whatever rule of its fault the device's restored state says is active."""
        rules = self.compiled.rules
        on = frozenset(rules[r].id for r in self.evaluator.active_rules(inc.device)
                       if rules[r].fault == inc.fault)
        self.book.open[(inc.device, inc.fault)] = replace(
            inc, active=on, clear_since_ms=None if on else inc.updated_ms)

    def layout(self) -> str:
        """The compiled state layout's fingerprint (a checkpoint fits only the same one)."""
        return self.evaluator.fingerprint()

    def export(self, devices: np.ndarray) -> list[tuple[int, bytes]]:
        """Per-device rule state as bytes, for a checkpoint."""
        return self.evaluator.export(devices)

    def restore(self, states: list[tuple[int, bytes]], reached_ms: int) -> None:
        """Load checkpointed device states (devices must be assigned) and the event time
        they reached."""
        self.evaluator.restore(states)
        self.now_ms = max(self.now_ms, reached_ms)

    def devices(self) -> list[int]:
        """The devices assigned to this engine."""
        return list(self.model_of)

    def set_mutes(self, mutes: list[tuple[int, str | None, int, int]], *,
                  add: bool = False) -> None:
        """Snoozes and maintenance windows (device, fault or None, from_ms, until_ms)."""
        self.book.mutes = [*self.book.mutes, *mutes] if add else list(mutes)
