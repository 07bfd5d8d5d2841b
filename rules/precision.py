"""Each rule's precision from technicians' outcome codes (pure).

An incident counts for every source that contributed to it (a rule id, `code:<code>` for an
error-code event, `generic:<metric>` for the generic detector). A technician's outcome on a
visit for it confirms it (`confirmed`) or refutes it (`other_fault`, `no_fault_found`); an
incident with a confirming visit is confirmed whatever other visits said; `cannot_complete`
and incidents nobody visited are unjudged. Precision = confirmed / (confirmed + refuted),
None while nothing is judged. What the customer answered on the self-help email ("I fixed it",
"still broken") is counted beside it (`customer_fixed`, `customer_still_broken`), never mixed
into the technicians' precision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CONFIRMING = ("confirmed",)
REFUTING = ("other_fault", "no_fault_found")


def precision(confirmed: int, refuted: int) -> float | None:
    """Share of judged incidents that technicians confirmed (None: none judged)."""
    judged = confirmed + refuted
    return confirmed / judged if judged else None


def joined(sources: Mapping[str, Sequence[str]],
           judged: Mapping[str, tuple[Sequence[str | None], Sequence[str]]]
           ) -> list[tuple[Sequence[str], Sequence[str | None], Sequence[str]]]:
    """`per_rule`'s input: each incident's (sources, outcome codes, answers), from its
    sources by key (rules') and what technicians and customers said by key (dispatch's)."""
    return [(s, *judged.get(key, ((), ()))) for key, s in sources.items()]


def per_rule(incidents: Iterable[tuple[Iterable[str], Iterable[str | None], Iterable[str]]]
             ) -> list[dict[str, Any]]:
    """Rows {rule, incidents, confirmed, refuted, precision, customer_fixed,
    customer_still_broken} from each incident's sources, its visits' outcome codes and the
    customer's answers ('fixed', 'still_broken'), sorted by rule."""
    out: dict[str, dict[str, Any]] = {}
    for sources, outcomes, answers in incidents:
        codes, said = set(outcomes), set(answers)
        ok = bool(codes & set(CONFIRMING))
        bad = not ok and bool(codes & set(REFUTING))
        for src in set(sources):
            row = out.setdefault(src, {"rule": src, "incidents": 0, "confirmed": 0,
                                       "refuted": 0, "customer_fixed": 0,
                                       "customer_still_broken": 0})
            row["incidents"] += 1
            row["confirmed"] += ok
            row["refuted"] += bad
            row["customer_fixed"] += "fixed" in said
            row["customer_still_broken"] += "still_broken" in said
    return [dict(r, precision=precision(r["confirmed"], r["refuted"]))
            for _, r in sorted(out.items())]


def lines(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The rows as a plain table (the CLI's output): technicians' figures, then the
    customers' answers."""
    out = [f"{'rule':34} {'incidents':>9} {'confirmed':>9} {'refuted':>7} {'precision':>9} "
           f"{'customer_fixed':>14} {'customer_still_broken':>21}"]
    for r in rows:
        p = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        out.append(f"{r['rule']:34} {r['incidents']:>9} {r['confirmed']:>9} {r['refuted']:>7} "
                   f"{p:>9} {r['customer_fixed']:>14} {r['customer_still_broken']:>21}")
    return out


def per_source_fault(incidents: Mapping[str, tuple[str, Sequence[str]]],
                     verdicts: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """The API's and the fleet page's table: rows {source, fault, confirmed, wrong, judged,
    precision, customer_fixed, customer_still_broken}, sorted by source and fault, from each
    incident's fault and sources by key (rules') and what was said of it by key (dispatch's
    `incident_verdicts`). Unlike `per_rule` it counts visits, not incidents: each visit's
    outcome counts for every source of its incident (once per time the source is listed), and
    each customer's answer beside it. A (source, fault) appears once any of its incidents had
    a visit's work or an answer; incidents that are not known are left out."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for key, said in verdicts.items():
        if key not in incidents:
            continue
        fault, sources = incidents[key]
        for src in sources:
            row = out.setdefault((src, fault), {
                "source": src, "fault": fault, "confirmed": 0, "wrong": 0, "judged": 0,
                "customer_fixed": 0, "customer_still_broken": 0})
            row["confirmed"] += said.get("confirmed", 0)
            row["wrong"] += said.get("wrong", 0)
            row["judged"] += said.get("confirmed", 0) + said.get("wrong", 0)
            row["customer_fixed"] += said.get("customer_fixed", 0)
            row["customer_still_broken"] += said.get("customer_still_broken", 0)
    return [{**{k: r[k] for k in ("source", "fault", "confirmed", "wrong", "judged")},
             "precision": r["confirmed"] / r["judged"] if r["judged"] else None,
             "customer_fixed": r["customer_fixed"],
             "customer_still_broken": r["customer_still_broken"]}
            for _, r in sorted(out.items())]
