"""Robustness figures of a run: the largest burst of one code, and emails in trouble windows.

Pure. A burst is the most incidents of one code opened within any `window_ms`; the ground
truth's own burst (fault onsets, hard failures and disconnects of that code in any window)
says how many a real cluster would explain. The trouble-window counts are a rough bound (any
false alarm opened from a window's start to a grace after its end); what trouble caused is
measured by pairing with a run without it (`fixahead.lab.evaluation.paired`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fixahead.lab.evaluation.types import Records

TEN_MIN_MS = 600_000


def max_in_window(times: Iterable[int], window_ms: int) -> int:
    """Most of `times` within any half-open window of `window_ms`."""
    ts = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ts):
        while t - ts[lo] >= window_ms:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _truth_times(truth: Mapping[str, Any]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for f in truth.get("faults", []):
        for key in ("onset_ms", "first_symptom_ms", "hard_failure_ms"):
            if f.get("code") and f.get(key) is not None:
                out[f["code"]].append(int(f[key]))
    for n in truth.get("network", []):
        if n.get("kind") == "disconnect":
            out["C01"].append(int(n["start_ms"]))
    return out


def robustness(truth: Mapping[str, Any], records: Records, false_alarms: Sequence[str],
               trouble: Sequence[tuple[str, int, int]] = (), *, grace_ms: int = 86_400_000,
               window_ms: int = TEN_MIN_MS) -> dict[str, Any]:
    """Burst and trouble figures; `false_alarms` as the scorer lists them (device:code:ms)."""
    by_code: dict[str, list[int]] = defaultdict(list)
    for i in records.incidents:
        by_code[i.fault].append(i.opened_ms)
    truth_times = _truth_times(truth)
    bursts = {c: max_in_window(t, window_ms) for c, t in by_code.items()}
    code = max(bursts, key=lambda c: bursts[c], default=None)
    unexplained = {c: n for c, n in bursts.items()
                   if n > 50 and n > max_in_window(truth_times.get(c, []), window_ms)}
    false_keys = {i.key for i in records.incidents
                  if f"{i.device_id}:{i.fault}:{i.opened_ms}" in set(false_alarms)
                  and any(a <= i.opened_ms <= b + grace_ms for _, a, b in trouble)}
    in_window = [e for e in records.emails if e.state != "cancelled"
              and any(it.incident_key in false_keys for it in e.items)]
    return {"max_burst_10min": bursts.get(code, 0) if code else 0, "max_burst_code": code,
            "truth_burst_10min": max_in_window(truth_times.get(code or "", []), window_ms),
            "bursts_over_50_unexplained": unexplained,
            "false_alarms_in_trouble_window": len(false_keys),
            "emails_in_trouble_window": len(in_window),
            "trouble": [list(w) for w in trouble]}


FIGURES = (("false_alarms_per_1000_device_days", "detection", max),
           ("recall_before_failure", "detection", min),
           ("median_lead_days", "detection", min),
           ("max_burst_10min", "robustness", max),
           ("emails_in_trouble_window", "robustness", max),
           ("incidents_only_with_trouble", "paired", max),
           ("false_alarms_caused", "paired", max),
           ("emails_caused", "paired", max),
           ("reference_false_alarms_per_1000_device_days", "paired", max))


def across_seeds(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The worst run's figure beside the median, per figure, over several seeds."""
    out: dict[str, Any] = {}
    for name, section, worst in FIGURES:
        vals = [d[section][name] for d in docs if d.get(section, {}).get(name) is not None]
        if not vals and section == "paired":
            continue  # not a paired evaluation
        out[name] = {"median": statistics.median(vals) if vals else None,
                     "worst": worst(vals) if vals else None, "runs": vals}
    out["seeds"] = [d.get("config", {}).get("seed") for d in docs]
    return out
