"""Which incidents belong to which ground-truth fault (pure).

An incident matches a fault of the same device when it opened inside the fault's window
[onset, end + grace], and either names the fault's catalog code, or names no catalog code
at all (a rule such as "offline" or a sensor fault without a code: then time decides).

An incident that names another code is a *symptom* of the fault, not a false alarm, when the
simulator's model of that fault really produces what the other code's rules read
(`SYMPTOMS`); it does not count as detecting the fault either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fixahead.lab.evaluation.types import Incident

# Codes whose rules a mechanism's simulated physics set off (simulator/appliances/fridge.py):
# - compressor_wear (F2) takes up to 72 % of the capacity: the duty rises from the first day
#   (what F9's rule reads) and, once the compressor cannot keep up, the cabinet warms by 18 K
#   per unit of shortfall (what F7's door and F4's defrost rules read);
# - defrost_fault (F4): ice takes a quarter of the capacity (duty up by a third: F9's metric)
#   and warms the cabinet by up to 5 K (F7's door rule);
# - door_left_open (F7): the compressor is asked for 150 %, so the freezer warms (F2's rules).
SYMPTOMS: dict[str, frozenset[str]] = {
    "compressor_wear": frozenset({"F9", "F4", "F7"}),
    "defrost_fault": frozenset({"F9", "F7"}),
    "door_left_open": frozenset({"F2"}),
}


@dataclass(frozen=True)
class Fault:
    """A ground-truth fault as the scorer needs it (epoch ms, None: not within the run)."""

    fault_id: str
    device_id: str
    model_id: str
    kind: str  # gradual | sudden | intermittent | sensor
    code: str | None
    onset_ms: int
    hard_failure_ms: int | None
    customer_fixable: bool
    end_ms: int | None = None
    last_episode_ms: int | None = None
    mechanism: str = ""

    @classmethod
    def from_record(cls, row: Mapping[str, Any]) -> Fault:
        """A fault from a `faults.jsonl` row."""
        episodes = row.get("episodes") or []
        return cls(fault_id=row["fault_id"], device_id=row["device_id"],
                   model_id=row.get("model_id", ""), kind=row["kind"], code=row.get("code"),
                   onset_ms=int(row["onset_ms"]), hard_failure_ms=row.get("hard_failure_ms"),
                   customer_fixable=bool(row.get("customer_fixable")),
                   end_ms=row.get("end_ms"),
                   last_episode_ms=max((int(e[1]) for e in episodes), default=None),
                   mechanism=str(row.get("mechanism") or ""))

    def window_end(self, run_end_ms: int, grace_ms: int) -> int:
        """The last event time an incident about this fault may open at."""
        ends = [t for t in (self.hard_failure_ms, self.end_ms, self.last_episode_ms)
                if t is not None]
        if self.kind == "gradual" and self.end_ms is None:
            # still degrading when the run ended, or failed and never repaired: the
            # simulator keeps a gradual fault's severity at 1 after its failure
            ends.append(run_end_ms)
        return (max(ends) if ends else run_end_ms) + grace_ms


def carries_code(incident: Incident, model_id: str,
                 catalog_codes: Mapping[str, frozenset[str]]) -> bool:
    """Whether the incident names a catalog code of the device's model (unknown model: yes)."""
    codes = catalog_codes.get(model_id)
    return True if codes is None else incident.fault in codes


def matches(incident: Incident, fault: Fault, *, run_end_ms: int, grace_ms: int,
            catalog_codes: Mapping[str, frozenset[str]]) -> bool:
    """Whether the incident is about this fault (same device, in its window, code agrees)."""
    if incident.device_id != fault.device_id:
        return False
    if not fault.onset_ms <= incident.opened_ms <= fault.window_end(run_end_ms, grace_ms):
        return False
    if fault.code is None or not carries_code(incident, fault.model_id, catalog_codes):
        return True
    return incident.fault == fault.code


def symptom_of(incident: Incident, fault: Fault, *, run_end_ms: int, grace_ms: int) -> bool:
    """Whether the incident names a code the fault's simulated physics set off (`SYMPTOMS`),
    on its device and inside its window."""
    return (incident.device_id == fault.device_id
            and incident.fault in SYMPTOMS.get(fault.mechanism, frozenset())
            and fault.onset_ms <= incident.opened_ms <= fault.window_end(run_end_ms, grace_ms))


def split_symptoms(false: Iterable[Incident], faults: Iterable[Fault], *, run_end_ms: int,
                   grace_ms: int) -> tuple[list[Incident], list[Incident]]:
    """(symptoms of a real fault under another code, the remaining false alarms)."""
    per_device: dict[str, list[Fault]] = {}
    for f in faults:
        per_device.setdefault(f.device_id, []).append(f)
    symptoms, rest = [], []
    for inc in false:
        hit = any(symptom_of(inc, f, run_end_ms=run_end_ms, grace_ms=grace_ms)
                  for f in per_device.get(inc.device_id, ()))
        (symptoms if hit else rest).append(inc)
    return symptoms, rest


def by_device(incidents: Iterable[Incident]) -> dict[str, list[Incident]]:
    """Incidents per device id, oldest first."""
    out: dict[str, list[Incident]] = {}
    for inc in sorted(incidents, key=lambda i: (i.opened_ms, i.key)):
        out.setdefault(inc.device_id, []).append(inc)
    return out


def match_all(faults: Iterable[Fault], incidents: Iterable[Incident], *, run_end_ms: int,
              grace_ms: int, catalog_codes: Mapping[str, frozenset[str]]
              ) -> tuple[dict[str, list[Incident]], list[Incident]]:
    """(matched incidents per fault id, incidents that match no fault: false alarms)."""
    per_device = by_device(incidents)
    faults = list(faults)
    matched: dict[str, list[Incident]] = {f.fault_id: [] for f in faults}
    used: set[str] = set()
    for f in faults:
        for inc in per_device.get(f.device_id, []):
            if matches(inc, f, run_end_ms=run_end_ms, grace_ms=grace_ms,
                       catalog_codes=catalog_codes):
                matched[f.fault_id].append(inc)
                used.add(inc.key)
    false = [i for incs in per_device.values() for i in incs if i.key not in used]
    return matched, false
