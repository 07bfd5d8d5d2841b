"""Pairing a run with trouble against the same scenario without it: what the trouble caused."""

from __future__ import annotations

import pytest

from fixahead.lab.evaluation.paired import paired, unmatched
from fixahead.lab.evaluation.storms import across_seeds
from fixahead.lab.evaluation.types import Email, EmailItem, Incident

MIN = 60_000
HOUR = 60 * MIN


def _inc(key: str, device: str, code: str, at: int) -> Incident:
    return Incident(key, device, code, "prediction", "self_help", at)


def test_same_device_and_code_within_the_tolerance_match():
    run = [_inc("a", "dw1", "I20", 10 * MIN), _inc("b", "dw1", "I20", 5 * HOUR)]
    ref = [_inc("r", "dw1", "I20", 40 * MIN)]
    assert [i.key for i in unmatched(run, ref, HOUR)] == ["b"]


def test_another_device_code_or_time_does_not_match():
    ref = [_inc("r", "dw1", "I20", 0)]
    run = [_inc("dev", "dw2", "I20", 0), _inc("code", "dw1", "I40", 0),
           _inc("late", "dw1", "I20", HOUR + 1)]
    assert sorted(i.key for i in unmatched(run, ref, HOUR)) == ["code", "dev", "late"]


def test_a_reference_incident_partners_one_incident_only():
    run = [_inc("a", "fr1", "F9", 0), _inc("b", "fr1", "F9", 10 * MIN)]
    assert [i.key for i in unmatched(run, [_inc("r", "fr1", "F9", 5 * MIN)], HOUR)] == ["b"]


def test_matching_is_maximal_not_first_come():
    """a could take r1 or r2; b reaches r2 only. Taking the earliest in reach leaves r2 to b."""
    run = [_inc("a", "fr1", "F9", 50 * MIN), _inc("b", "fr1", "F9", 150 * MIN)]
    ref = [_inc("r1", "fr1", "F9", 0), _inc("r2", "fr1", "F9", 100 * MIN)]
    assert unmatched(run, ref, HOUR) == []


def test_a_negative_tolerance_is_refused():
    with pytest.raises(ValueError, match="tolerance"):
        unmatched([], [], -1)


def test_caused_counts_false_alarms_and_their_emails_only_in_the_run_with_trouble():
    run = [_inc("k1", "dw1", "I20", 100 * MIN),    # only with trouble, a false alarm
           _inc("k2", "wm1", "E21", 200 * MIN),    # only with trouble, a real fault
           _inc("k3", "fr1", "F9", 300 * MIN)]     # also in the reference
    ref = [_inc("r3", "fr1", "F9", 310 * MIN), _inc("r4", "hp1", "H12", 0)]
    emails = [Email(1, "self_help", 0.0, (EmailItem("k1", "self_help"),)),
              Email(2, "self_help", 0.0, (EmailItem("k1", "self_help"),), state="cancelled"),
              Email(3, "digest", 0.0, (EmailItem("k2", "self_help"),
                                       EmailItem("k3", "self_help"))),
              Email(4, "self_help", 0.0, (EmailItem("k3", "self_help"),))]
    false_alarms = [f"dw1:I20:{100 * MIN}", f"fr1:F9:{300 * MIN}"]
    out = paired(run, emails, ref, false_alarms, tolerance_ms=HOUR)
    assert out["incidents_only_with_trouble"] == 2
    assert out["false_alarms_caused"] == 1
    assert out["emails_caused"] == 1  # the cancelled one never reached the customer
    assert out["emails_only_with_trouble"] == 2  # the digest about the real fault too
    assert out["incidents_only_in_reference"] == 1
    assert out["details"]["caused"] == [f"dw1:I20:{100 * MIN}"]
    assert out["details"]["only_in_reference"] == ["hp1:H12:0"]


def test_across_seeds_reports_paired_figures_when_paired():
    def doc(seed: int, caused: int) -> dict:
        return {"detection": {"false_alarms_per_1000_device_days": 1.0},
                "robustness": {}, "config": {"seed": seed},
                "paired": {"emails_caused": caused, "false_alarms_caused": caused,
                           "incidents_only_with_trouble": caused,
                           "reference_false_alarms_per_1000_device_days": 0.9}}
    summary = across_seeds([doc(1, 0), doc(2, 3), doc(3, 1)])
    assert summary["emails_caused"] == {"median": 1, "worst": 3, "runs": [0, 3, 1]}
    plain = across_seeds([{"detection": {}, "config": {"seed": 1}}])
    assert "emails_caused" not in plain
