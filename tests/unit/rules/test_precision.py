"""Each rule's precision from technicians' outcome codes (rules/precision.py)."""

from __future__ import annotations

from rules.precision import lines, per_rule, precision


def test_precision_is_confirmed_over_judged() -> None:
    assert precision(3, 1) == 0.75
    assert precision(0, 0) is None


def test_per_rule_counts_each_incident_once_for_each_of_its_sources() -> None:
    rows = per_rule([
        (["drain_pump_wear", "code:E21"], ["confirmed"]),
        (["drain_pump_wear"], ["no_fault_found"]),
        (["drain_pump_wear"], ["other_fault", "confirmed"]),  # a later visit found it
        (["drain_pump_wear"], []),                            # nobody went
        (["drain_pump_wear"], ["cannot_complete"]),           # not judged
        (["generic:water_temp"], ["other_fault", "no_fault_found"]),
    ])
    by = {r["rule"]: r for r in rows}
    assert by["drain_pump_wear"] == {"rule": "drain_pump_wear", "incidents": 5,
                                     "confirmed": 2, "refuted": 1, "precision": 2 / 3}
    assert by["code:E21"]["precision"] == 1.0
    assert by["generic:water_temp"] == {"rule": "generic:water_temp", "incidents": 1,
                                        "confirmed": 0, "refuted": 1, "precision": 0.0}
    text = lines(rows)
    assert text[0].split() == ["rule", "incidents", "confirmed", "refuted", "precision"]
    assert text[1].split() == ["code:E21", "1", "1", "0", "1.00"]


def test_no_incidents_no_rows() -> None:
    assert per_rule([]) == []
