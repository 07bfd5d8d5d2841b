"""Each rule's precision from technicians' outcome codes (rules/precision.py)."""

from __future__ import annotations

from rules.precision import lines, per_rule, per_source_fault, precision


def test_precision_is_confirmed_over_judged() -> None:
    assert precision(3, 1) == 0.75
    assert precision(0, 0) is None


def test_per_rule_counts_each_incident_once_for_each_of_its_sources() -> None:
    rows = per_rule([
        (["drain_pump_wear", "code:E21"], ["confirmed"], []),
        (["drain_pump_wear"], ["no_fault_found"], []),
        (["drain_pump_wear"], ["other_fault", "confirmed"], []),  # a later visit found it
        (["drain_pump_wear"], [], []),                            # nobody went
        (["drain_pump_wear"], ["cannot_complete"], []),           # not judged
        (["generic:water_temp"], ["other_fault", "no_fault_found"], []),
    ])
    by = {r["rule"]: r for r in rows}
    assert by["drain_pump_wear"] == {"rule": "drain_pump_wear", "incidents": 5,
                                     "confirmed": 2, "refuted": 1, "precision": 2 / 3,
                                     "customer_fixed": 0, "customer_still_broken": 0}
    assert by["code:E21"]["precision"] == 1.0
    assert by["generic:water_temp"] == {"rule": "generic:water_temp", "incidents": 1,
                                        "confirmed": 0, "refuted": 1, "precision": 0.0,
                                        "customer_fixed": 0, "customer_still_broken": 0}
    text = lines(rows)
    assert text[0].split() == ["rule", "incidents", "confirmed", "refuted", "precision",
                               "customer_fixed", "customer_still_broken"]
    assert text[1].split() == ["code:E21", "1", "1", "0", "1.00", "0", "0"]


def test_customers_answers_are_counted_beside_technicians_precision_not_in_it() -> None:
    rows = per_rule([
        (["drain_pump_wear", "code:E21"], [], ["fixed"]),             # the customer fixed it
        (["drain_pump_wear"], ["no_fault_found"], ["still_broken"]),  # both answered
        (["drain_pump_wear"], [], ["still_broken", "fixed"]),         # broken, later fixed
    ])
    by = {r["rule"]: r for r in rows}
    assert by["drain_pump_wear"] == {"rule": "drain_pump_wear", "incidents": 3,
                                     "confirmed": 0, "refuted": 1, "precision": 0.0,
                                     "customer_fixed": 2, "customer_still_broken": 2}
    assert by["code:E21"]["precision"] is None and by["code:E21"]["customer_fixed"] == 1
    assert lines(rows)[2].split() == ["drain_pump_wear", "3", "0", "1", "0.00", "2", "2"]


def test_no_incidents_no_rows() -> None:
    assert per_rule([]) == []


def test_per_source_fault_counts_visits_and_answers_for_each_source_and_fault() -> None:
    incidents = {"i1": ("E60", ["drum", "code:E60"]), "i2": ("E60", ["drum"]),
                 "i3": ("E21", ["drum"]), "i4": ("E21", [])}
    verdicts = {
        "i1": {"visits": 2, "confirmed": 1, "wrong": 1, "answers": 1,
               "customer_fixed": 0, "customer_still_broken": 1},
        "i2": {"visits": 1, "confirmed": 1, "wrong": 0},  # no answer
        "i3": {"visits": 1, "confirmed": 0, "wrong": 0},  # a visit without an outcome yet
        "i4": {"visits": 1, "confirmed": 1, "wrong": 0},  # no source: in no row
        "gone": {"visits": 1, "confirmed": 1, "wrong": 0}}  # no such incident
    rows = per_source_fault(incidents, verdicts)
    assert [(r["source"], r["fault"]) for r in rows] == [
        ("code:E60", "E60"), ("drum", "E21"), ("drum", "E60")]
    assert rows[2] == {"source": "drum", "fault": "E60", "confirmed": 2, "wrong": 1,
                       "judged": 3, "precision": 2 / 3, "customer_fixed": 0,
                       "customer_still_broken": 1}
    assert rows[1]["judged"] == 0 and rows[1]["precision"] is None
    assert per_source_fault(incidents, {}) == []
