"""Incidents and their lifecycle, as pure values: signals in, incident changes out.

One incident per device and fault episode. A signal is evidence for a catalog fault on a
device: a rule turning on or off, or an error-code event. While an incident is open, more
evidence updates it (escalating prediction -> confirmation -> error). It is acknowledged or
resolved by a person, or auto-cleared once no evidence has been active for a clean period.
Flapping is suppressed: evidence that returns within `reopen_within_ms` of an auto-clear
reopens the same incident (same key) instead of opening a new one. Snoozes and maintenance
windows mute new evidence for a device (or one fault of it). The key is derived from event
time (device:fault:opened_ms), so replaying the same data yields the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

KINDS = ("prediction", "confirmation", "error")
OPEN_STATES = ("open", "updated", "acknowledged")
SEVERITIES = ("info", "warning", "error", "critical")


@dataclass(frozen=True)
class Life:
    """Remaining life estimated from a trend: about `days` left, `lo` to `hi` (hi may be inf),
    as of event time `at_ms` (rules.remaining_life.trend_life)."""

    days: float
    lo: float
    hi: float
    at_ms: int


@dataclass(frozen=True)
class Signal:
    """Evidence for (or against, when `on` is false) a fault on a device."""

    device: int
    fault: str
    source: str            # rule id, or "code:<code>" for an error-code event
    on: bool
    ts_ms: int
    kind: str = "prediction"
    severity: str = "warning"
    action: str = "self_help"
    title: str = ""
    reading: tuple[tuple[str, float], ...] = ()  # e.g. (("metric", 3), ("value", 250.0), ...)
    momentary: bool = False  # an event: evidence that is over as soon as it is seen
    life: Life | None = None  # a trend rule's remaining-life estimate when it turned on


@dataclass(frozen=True)
class Incident:
    """One fault episode of one device."""

    key: str
    device: int
    fault: str
    kind: str
    severity: str
    action: str
    title: str
    state: str
    opened_ms: int
    updated_ms: int
    closed_ms: int | None = None
    sources: tuple[str, ...] = ()         # every source that ever contributed
    active: frozenset[str] = frozenset()  # sources currently on
    clear_since_ms: int | None = None
    flaps: int = 0
    version: int = 1
    readings: tuple[tuple[tuple[str, float], ...], ...] = ()
    life: Life | None = None  # the latest remaining-life estimate of its evidence


@dataclass(frozen=True)
class IncidentChange:
    """What happened to an incident: opened, updated, reopened, acknowledged, resolved or
    auto_cleared; `incident` is its state after the change."""

    change: str
    incident: Incident


@dataclass(frozen=True)
class Policy:
    """Lifecycle tunables."""

    clean_period_ms: int = 6 * 3_600_000
    reopen_within_ms: int = 24 * 3_600_000
    max_readings: int = 20


def _stronger(a: Incident, s: Signal) -> dict[str, object]:
    kind = max(a.kind, s.kind, key=KINDS.index)
    sev = max(a.severity, s.severity, key=lambda v: SEVERITIES.index(v) if v in SEVERITIES else 0)
    action = "technician" if "technician" in (a.action, s.action) else "self_help"
    title = s.title if KINDS.index(s.kind) >= KINDS.index(a.kind) and s.title else a.title
    return {"kind": kind, "severity": sev, "action": action, "title": title,
            "life": s.life if s.life is not None else a.life}


@dataclass
class IncidentBook:
    """Open and recently cleared incidents, with mutes; every method returns its changes."""

    policy: Policy = field(default_factory=Policy)
    open: dict[tuple[int, str], Incident] = field(default_factory=dict)
    recent: dict[tuple[int, str], Incident] = field(default_factory=dict)
    mutes: list[tuple[int, str | None, int, int]] = field(default_factory=list)
    muted_signals: int = 0

    def muted(self, device: int, fault: str, ts_ms: int) -> bool:
        """Whether a snooze or maintenance window covers this device and fault at ts_ms."""
        return any(d == device and f in (None, fault) and a <= ts_ms < b
                   for d, f, a, b in self.mutes)

    def snooze(self, device: int, until_ms: int, fault: str | None = None,
               from_ms: int = 0) -> None:
        """Mute new evidence for a device (or one fault of it) until `until_ms`."""
        self.mutes.append((device, fault, from_ms, until_ms))

    def maintenance(self, device: int, start_ms: int, end_ms: int) -> None:
        """A maintenance window: all evidence of the device within it is ignored."""
        self.mutes.append((device, None, start_ms, end_ms))

    def apply(self, s: Signal) -> list[IncidentChange]:
        """Take one signal; return the changes it causes (maybe none)."""
        key = (s.device, s.fault)
        inc = self.open.get(key)
        if not s.on:
            if inc is None or s.source not in inc.active:
                return []
            active = inc.active - {s.source}
            self.open[key] = replace(inc, active=active,
                                     clear_since_ms=s.ts_ms if not active else None)
            return []
        if self.muted(s.device, s.fault, s.ts_ms):
            self.muted_signals += 1
            return []
        reading = (s.reading,) if s.reading else ()
        active = frozenset() if s.momentary else frozenset({s.source})
        if inc is not None:
            new = replace(
                inc, **_stronger(inc, s), updated_ms=max(inc.updated_ms, s.ts_ms),
                state="acknowledged" if inc.state == "acknowledged" else "updated",
                sources=inc.sources if s.source in inc.sources else (*inc.sources, s.source),
                active=inc.active | active,
                clear_since_ms=None if (inc.active | active) else s.ts_ms,
                version=inc.version + 1,
                readings=(inc.readings + reading)[-self.policy.max_readings:])
            self.open[key] = new
            return [IncidentChange("updated", new)]
        old = self.recent.pop(key, None)
        if old is not None and s.ts_ms - (old.closed_ms or 0) <= self.policy.reopen_within_ms:
            new = replace(old, **_stronger(old, s), state="open", closed_ms=None,
                          updated_ms=s.ts_ms, active=active, flaps=old.flaps + 1,
                          clear_since_ms=None if active else s.ts_ms,
                          sources=old.sources if s.source in old.sources
                          else (*old.sources, s.source),
                          version=old.version + 1,
                          readings=(old.readings + reading)[-self.policy.max_readings:])
            self.open[key] = new
            return [IncidentChange("reopened", new)]
        new = Incident(
            key=f"{s.device}:{s.fault}:{s.ts_ms}", device=s.device, fault=s.fault, kind=s.kind,
            severity=s.severity, action=s.action, title=s.title, state="open",
            opened_ms=s.ts_ms, updated_ms=s.ts_ms, sources=(s.source,), active=active,
            clear_since_ms=None if active else s.ts_ms, readings=reading, life=s.life)
        self.open[key] = new
        return [IncidentChange("opened", new)]

    def tick(self, now_ms: int) -> list[IncidentChange]:
        """Auto-clear incidents clean for the clean period; forget old cleared ones."""
        out = []
        for key, inc in list(self.open.items()):
            if (not inc.active and inc.clear_since_ms is not None
                    and now_ms - inc.clear_since_ms >= self.policy.clean_period_ms):
                done = replace(inc, state="auto_cleared", closed_ms=now_ms, updated_ms=now_ms,
                               version=inc.version + 1)
                del self.open[key]
                self.recent[key] = done
                out.append(IncidentChange("auto_cleared", done))
        for key, inc in list(self.recent.items()):
            if now_ms - (inc.closed_ms or 0) > self.policy.reopen_within_ms:
                del self.recent[key]
        self.mutes = [m for m in self.mutes if m[3] > now_ms - self.policy.reopen_within_ms]
        return out

    def _by_key(self, key: str) -> tuple[tuple[int, str], Incident]:
        for k, inc in self.open.items():
            if inc.key == key:
                return k, inc
        raise KeyError(f"no open incident {key!r}")

    def acknowledge(self, key: str, ts_ms: int) -> list[IncidentChange]:
        """A person has seen the incident."""
        k, inc = self._by_key(key)
        new = replace(inc, state="acknowledged", updated_ms=ts_ms, version=inc.version + 1)
        self.open[k] = new
        return [IncidentChange("acknowledged", new)]

    def resolve(self, key: str, ts_ms: int) -> list[IncidentChange]:
        """A person closed the incident; new evidence opens a new episode."""
        k, inc = self._by_key(key)
        new = replace(inc, state="resolved", closed_ms=ts_ms, updated_ms=ts_ms, active=frozenset(),
                      version=inc.version + 1)
        del self.open[k]
        return [IncidentChange("resolved", new)]
