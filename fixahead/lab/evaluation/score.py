"""Score what the platform did against the simulator's ground truth (pure).

`score(truth, records)` takes `simulator.groundtruth.read_ground_truth`'s result and the
platform's `Records` and returns the evaluation document (nested dicts, JSON-ready). Nothing
here trusts the platform's own claims: faults, presence and vacations come from the ground
truth, incidents, emails and visits from the platform's tables. See docs/evaluation.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from fixahead.lab.evaluation.matching import Fault, match_all, split_symptoms
from fixahead.lab.evaluation.presence import Presence, presence_by_household
from fixahead.lab.evaluation.types import DAY_MS, Email, Incident, Records, Visit

EMAIL_TOLERANCE_MS = 1000  # an error event opened the incident when their times agree this well
OFFLINE_CODE = "C01"  # the catalog code of "appliance offline" (not a fault of the appliance)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation (numpy's default); None when empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _in_run(t: int | None, start_ms: int, end_ms: int) -> bool:
    return t is not None and start_ms <= t <= end_ms


PROBLEM_KINDS = frozenset({"self_help", "visit", "urgent", "digest"})


def _items_by_incident(emails: Sequence[Email]) -> dict[str, list[tuple[Email, str]]]:
    out: dict[str, list[tuple[Email, str]]] = {}
    for e in emails:
        for item in e.items:
            out.setdefault(item.incident_key, []).append((e, item.kind))
    return out


def _first_visits(visits: Sequence[Visit]) -> list[Visit]:
    """The first visit proposed for each incident (the one its email offered)."""
    first: dict[str, Visit] = {}
    for v in sorted(visits, key=lambda v: v.visit_id):
        first.setdefault(v.incident_key, v)
    return list(first.values())


def _error_latencies(records: Records, emails_of: Mapping[str, list[tuple[Email, str]]]
                     ) -> tuple[list[float], int]:
    """Wall seconds from an error event's arrival to the outbox row of its incident's email;
    and how many such incidents were emailed only in a digest (not timed)."""
    arrivals: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for a in records.errors:
        arrivals.setdefault((a.device_id, a.code), []).append((a.time_ms, a.received_s))
    out: list[float] = []
    digested = 0
    for inc in records.incidents:
        got = [r for t, r in arrivals.get((inc.device_id, inc.fault), [])
               if abs(t - inc.opened_ms) <= EMAIL_TOLERANCE_MS]
        mails = emails_of.get(inc.key, [])
        if not got or not mails:
            continue
        direct = [e.created_s for e, _ in mails if e.kind != "digest"]
        if direct:
            out.append(min(direct) - min(got))
        else:
            digested += 1
    return out, digested


def outages(network: Sequence[Mapping[str, Any]], devices: Mapping[str, Mapping[str, Any]],
            catalog_codes: Mapping[str, frozenset[str]]) -> list[Fault]:
    """Disconnects of devices whose model has the connectivity code, as faults of kind
    "network": an "appliance offline" incident during one (or within the grace after) is a
    true detection, not a false alarm."""
    out = []
    for k, n in enumerate(network):
        model = devices.get(n["device_id"], {}).get("model_id", "")
        if n.get("kind") == "disconnect" and OFFLINE_CODE in catalog_codes.get(model, ()):
            out.append(Fault(f"net-{k:06d}", n["device_id"], model, "network", OFFLINE_CODE,
                             int(n["start_ms"]), None, True, int(n["end_ms"])))
    return out


def _in_network_trouble(false: Sequence[Incident], network: Sequence[Mapping[str, Any]],
                        grace_ms: int) -> int:
    """False alarms opened while their device had network trouble (or `grace_ms` after)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for n in network:
        spans.setdefault(n["device_id"], []).append((int(n["start_ms"]), int(n["end_ms"])))
    return sum(1 for i in false if any(a <= i.opened_ms <= b + grace_ms
                                       for a, b in spans.get(i.device_id, [])))


def _detection(faults: list[Fault], matched: Mapping[str, list[Incident]],
               false: list[Incident], acted: set[str], start_ms: int, end_ms: int,
               device_days: float) -> dict[str, Any]:
    gradual = [f for f in faults if f.kind == "gradual"
               and _in_run(f.hard_failure_ms, start_ms, end_ms)]
    leads = []
    outcomes = []  # per gradual fault: its lead in days, None when missed
    for f in gradual:
        assert f.hard_failure_ms is not None
        early = [i.opened_ms for i in matched[f.fault_id] if i.opened_ms < f.hard_failure_ms]
        lead = (f.hard_failure_ms - min(early)) / DAY_MS if early else None
        if lead is not None:
            leads.append(lead)
        outcomes.append(f"{f.device_id}:{f.code}:{'missed' if lead is None else f'{lead:.2f}'}")
    still = [f for f in faults if f.kind == "gradual" and f.hard_failure_ms is None]
    sudden = [f for f in faults if f.kind == "sudden"
              and _in_run(f.hard_failure_ms, start_ms, end_ms)]
    sudden_acted = sum(1 for f in sudden if any(i.key in acted for i in matched[f.fault_id]))
    return {
        "gradual_faults": len(gradual),
        "gradual_detected_before_failure": len(leads),
        "recall_before_failure": _share(len(leads), len(gradual)),
        "recall_any": _share(sum(1 for f in gradual if matched[f.fault_id]), len(gradual)),
        "median_lead_days": percentile(leads, 50),
        "p10_lead_days": percentile(leads, 10),
        "gradual_still_degrading_at_end": len(still),
        "gradual_still_degrading_flagged": sum(1 for f in still if matched[f.fault_id]),
        "false_alarms": len(false),
        "false_alarms_per_1000_device_days": (1000 * len(false) / device_days
                                              if device_days else None),
        "sudden_faults": len(sudden),
        "sudden_acted": sudden_acted,
        "sudden_acted_share": _share(sudden_acted, len(sudden)),
        "network_outages": len([f for f in faults if f.kind == "network"]),
        "network_outages_flagged": sum(1 for f in faults
                                       if f.kind == "network" and matched[f.fault_id]),
        "lead_days": sorted(leads),
        "gradual_outcomes": sorted(outcomes),
    }


def _home(visits: Sequence[tuple[str, int, int]], household_of: Mapping[str, str],
          presence: Mapping[str, Presence]) -> dict[str, tuple[bool, float]]:
    """Per incident key: (home through the whole window, share of it at home), when known."""
    out = {}
    for key, start_ms, end_ms in visits:
        p = presence.get(household_of.get(key, ""))
        if p is not None and p.known(start_ms, end_ms):
            out[key] = (p.home_all(start_ms, end_ms), p.home_share(start_ms, end_ms))
    return out


def _dispatch(faults: list[Fault], matched: Mapping[str, list[Incident]], records: Records,
              emails: list[Email], emails_of: Mapping[str, list[tuple[Email, str]]],
              household_of: Mapping[str, str], presence: Mapping[str, Presence],
              start_ms: int, end_ms: int) -> dict[str, Any]:
    fixable = [f for f in faults if f.customer_fixable and f.code is not None
               and _in_run(f.hard_failure_ms, start_ms, end_ms)]
    helped = sum(1 for f in fixable if any(
        kind == "self_help" for i in matched[f.fault_id] for _, kind in emails_of.get(i.key, [])))
    visits = _first_visits(records.visits)
    ours = _home([(v.incident_key, v.start_ms, v.end_ms) for v in visits], household_of,
                 presence)
    base_slots = [(k, s[0], s[1]) for k, s in records.baseline.items() if s is not None]
    base = _home(base_slots, household_of, presence)
    paired = [k for k in ours if k in base]
    away = 0
    for v in visits:
        p = presence.get(household_of.get(v.incident_key, ""))
        away += bool(p is not None and p.on_vacation(v.start_ms, v.end_ms))
    shares = [s for _, s in ours.values()]
    return {
        "emails": len(emails),
        # emails about a problem (self-help, a proposed visit, an urgent call-out, a digest)
        # per incident; the appointment's own mail (reminders, confirmations of each change,
        # a hold that ran out) apart, and confirmations a customer's click asked for apart
        "emails_per_incident": _share(sum(e.kind in PROBLEM_KINDS for e in emails),
                                      len(records.incidents)),
        "appointment_emails": sum(e.kind not in PROBLEM_KINDS and not e.reply for e in emails),
        "replies_to_customers": sum(e.reply for e in emails),
        "incidents_emailed": len(emails_of),
        "customer_fixable_faults": len(fixable),
        "self_help_sent": helped,
        "self_help_share": _share(helped, len(fixable)),
        "visits": len(visits),
        "visits_scored": len(ours),
        "visits_beyond_truth": len(visits) - len(ours),
        "home_rate": _share(sum(h for h, _ in ours.values()), len(ours)),
        "home_minutes_share": sum(shares) / len(shares) if shares else None,
        "home_rate_paired": _share(sum(ours[k][0] for k in paired), len(paired)),
        "home_rate_baseline": _share(sum(base[k][0] for k in paired), len(paired)),
        "baseline_paired": len(paired),
        "baseline_no_slot": sum(1 for s in records.baseline.values() if s is None),
        "away_proposals": away,
        "away_proposals_share": _share(away, len(visits)),
    }


def per_rule(known: Sequence[Incident], false: Sequence[Incident],
             symptoms: Sequence[Incident] = ()) -> dict[str, Any]:
    """Each source's (rule, `code:<code>`, `generic:<metric>`) incidents on the simulated
    fleet: how many, how many about a true fault, how many a symptom of a real fault under
    another code, false alarms, and precision (true share)."""
    wrong = {i.key for i in false}
    other = {i.key for i in symptoms}
    out: dict[str, dict[str, Any]] = {}
    for inc in known:
        for src in set(inc.sources) or {"(none)"}:
            row = out.setdefault(src, {"incidents": 0, "true": 0, "symptom": 0, "false": 0})
            row["incidents"] += 1
            row["false" if inc.key in wrong else "symptom" if inc.key in other else "true"] += 1
    return {src: dict(r, precision=_share(r["true"], r["incidents"]))
            for src, r in sorted(out.items())}


def score(truth: Mapping[str, Any], records: Records, *, grace_days: float = 1.0
          ) -> dict[str, Any]:
    """The evaluation document: detection, dispatch, counts, config."""
    run = truth["run"]
    start_ms, end_ms = int(run["start_ms"]), int(run["end_ms"])
    grace_ms = int(grace_days * DAY_MS)
    devices = {d["device_id"]: d for d in truth.get("devices", [])}
    faults = [Fault.from_record(r) for r in truth.get("faults", [])]
    faults += outages(truth.get("network", []), devices, records.catalog_codes)
    device_days = len(devices) * (end_ms - start_ms) / DAY_MS
    known = [i for i in records.incidents if i.device_id in devices]
    matched, unmatched = match_all(faults, known, run_end_ms=end_ms, grace_ms=grace_ms,
                                   catalog_codes=records.catalog_codes)
    symptoms, false = split_symptoms(unmatched, faults, run_end_ms=end_ms, grace_ms=grace_ms)
    emails = [e for e in records.emails if e.state != "cancelled"]
    emails_of = _items_by_incident(emails)
    acted = set(emails_of) | {v.incident_key for v in records.visits}
    device_of = {i.key: i.device_id for i in records.incidents}
    household_of = {k: devices[d].get("household", "") for k, d in device_of.items()
                    if d in devices}
    presence = presence_by_household(truth)
    detection = _detection(faults, matched, false, acted, start_ms, end_ms, device_days)
    detection["symptom_incidents"] = len(symptoms)
    # the figure as counted before symptoms were told apart (comparable with older runs)
    detection["false_alarms_and_symptoms_per_1000_device_days"] = (
        1000 * len(unmatched) / device_days if device_days else None)
    detection["false_alarms_in_network_trouble"] = _in_network_trouble(
        false, truth.get("network", []), grace_ms)
    latencies, digested = _error_latencies(records, emails_of)
    leads = detection.pop("lead_days")
    outcomes = detection.pop("gradual_outcomes")
    detection.update({
        "error_emails_timed": len(latencies),
        "error_emails_in_digest": digested,
        "p50_error_to_email_s": percentile(latencies, 50),
        "p99_error_to_email_s": percentile(latencies, 99),
        "max_error_to_email_s": max(latencies) if latencies else None,
    })
    dispatch = _dispatch(faults, matched, records, emails, emails_of, household_of, presence,
                         start_ms, end_ms)
    counts = {
        "faults": dict(sorted(Counter(f.kind for f in faults).items())),
        "incidents": len(records.incidents),
        "incidents_by_kind": dict(sorted(Counter(i.kind for i in records.incidents).items())),
        "incidents_on_unknown_devices": len(records.incidents) - len(known),
        "emails": len(emails),
        "emails_by_kind": dict(sorted(Counter(e.kind for e in emails).items())),
        "visits": len(records.visits),
        "visits_by_state": dict(sorted(Counter(v.state for v in records.visits).items())),
        "devices": len(devices),
        "households": len(truth.get("households", [])),
        "device_days": device_days,
    }
    config = {"grace_days": grace_days, "run_start_ms": start_ms, "run_end_ms": end_ms,
              "seed": run.get("seed"), "days": (end_ms - start_ms) / DAY_MS}
    by_code = Counter(i.fault for i in false).most_common()
    details = {"false_alarms_by_code": dict(by_code),
               "symptom_incidents_by_code": dict(Counter(i.fault for i in symptoms).most_common()),
               "lead_days": leads,
               "gradual_outcomes": outcomes,
               "error_to_email_s": sorted(latencies),
               "false_alarms": sorted(f"{i.device_id}:{i.fault}:{i.opened_ms}" for i in false)}
    return {"detection": detection, "dispatch": dispatch, "counts": counts, "config": config,
            "rules": per_rule(known, false, symptoms), "details": details}
