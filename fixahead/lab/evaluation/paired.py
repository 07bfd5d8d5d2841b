"""What injected trouble caused, by pairing a run with the same scenario run without it (pure).

The same seed and window give the same fleet, faults and outages, so an incident present in
the run with trouble and absent from the reference run (same device, same code, opened
within a tolerance) is one the trouble caused, and so are the customer emails about it.
Matching is one to one: two incidents of one device and code in the trouble run and one in
the reference leave one unmatched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from fixahead.lab.evaluation.types import Email, Incident

HOUR_MS = 3_600_000


def unmatched(runs: Sequence[Incident], reference: Iterable[Incident], tolerance_ms: int
              ) -> list[Incident]:
    """Incidents of `runs` with no partner in `reference`: same device and code, opened
    within `tolerance_ms`, each reference incident partnering at most one."""
    if tolerance_ms < 0:
        raise ValueError(f"tolerance must be >= 0 ms, not {tolerance_ms}")
    pool: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in reference:
        pool[(r.device_id, r.fault)].append(r.opened_ms)
    for times in pool.values():
        times.sort()
    out = []
    # in time order, each takes the earliest free partner in reach: a maximum matching of
    # points within a fixed distance
    for inc in sorted(runs, key=lambda i: (i.opened_ms, i.key)):
        times = pool.get((inc.device_id, inc.fault), [])
        j = next((k for k, t in enumerate(times) if abs(t - inc.opened_ms) <= tolerance_ms),
                 None)
        if j is None:
            out.append(inc)
        else:
            del times[j]
    return out


def _label(i: Incident) -> str:
    return f"{i.device_id}:{i.fault}:{i.opened_ms}"


def emails_about(emails: Iterable[Email], keys: set[str]) -> list[Email]:
    """Emails that went or will go out (not cancelled) with an item about these incidents."""
    return [e for e in emails if e.state != "cancelled"
            and any(it.incident_key in keys for it in e.items)]


def paired(incidents: Sequence[Incident], emails: Sequence[Email],
           reference: Sequence[Incident], false_alarms: Iterable[str], *,
           tolerance_ms: int = HOUR_MS) -> dict[str, Any]:
    """The paired figures of a run with trouble against its reference run: incidents and
    emails only in the run with trouble (all, and those that are false alarms: the caused
    ones), and incidents only in the reference (detections the trouble cost).
    `false_alarms` as the scorer lists them (device:code:opened_ms)."""
    extra = unmatched(incidents, reference, tolerance_ms)
    lost = unmatched(reference, incidents, tolerance_ms)
    wrong = set(false_alarms)
    caused = [i for i in extra if _label(i) in wrong]
    caused_emails = emails_about(emails, {i.key for i in caused})
    return {
        "tolerance_min": tolerance_ms / 60_000,
        "reference_incidents": len(reference),
        "incidents_only_with_trouble": len(extra),
        "false_alarms_caused": len(caused),
        "emails_caused": len(caused_emails),
        "emails_only_with_trouble": len(emails_about(emails, {i.key for i in extra})),
        "incidents_only_in_reference": len(lost),
        "details": {"only_with_trouble": [_label(i) for i in extra],
                    "caused": [_label(i) for i in caused],
                    "only_in_reference": [_label(i) for i in lost]},
    }
