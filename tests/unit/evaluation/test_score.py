"""The scorer on small hand-made runs whose answers are known."""

from __future__ import annotations

import pytest

from fixahead.lab.evaluation.score import percentile, score
from fixahead.lab.evaluation.types import Email, EmailItem, Records, Visit
from tests.support.evaluation_cases import (
    CODES,
    day,
    detection_case,
    fault,
    inc,
    mail,
    truth,
    visit_case,
)


def test_a_fault_flagged_three_days_before_failure_counts_with_its_lead_time() -> None:
    gt, rec = detection_case()
    d = score(gt, rec)["detection"]
    assert d["gradual_faults"] == 2
    assert d["recall_before_failure"] == 0.5
    assert d["median_lead_days"] == pytest.approx(3.0)
    assert d["p10_lead_days"] == pytest.approx(3.0)


def test_an_incident_with_a_code_no_fault_had_is_a_false_alarm() -> None:
    gt, rec = detection_case()
    d = score(gt, rec)["detection"]
    assert d["false_alarms"] == 1
    # 4 devices x 30 days = 120 device-days
    assert d["false_alarms_per_1000_device_days"] == pytest.approx(1000 / 120)
    assert score(gt, rec)["details"]["false_alarms_by_code"] == {"F9": 1}


def test_a_sudden_fault_counts_as_acted_on_only_with_an_email_or_a_visit() -> None:
    gt, rec = detection_case()
    d = score(gt, rec)["detection"]
    assert (d["sudden_faults"], d["sudden_acted"], d["sudden_acted_share"]) == (2, 1, 0.5)
    with_visit = Records(incidents=rec.incidents, emails=rec.emails, errors=rec.errors,
                         catalog_codes=CODES,
                         visits=(Visit(9, "i-s2", day(33, 14), day(33, 15), "held"),))
    assert score(gt, with_visit)["detection"]["sudden_acted_share"] == 1.0


def test_a_cancelled_email_is_not_an_action() -> None:
    gt, rec = detection_case()
    cancelled = Records(incidents=rec.incidents, catalog_codes=CODES,
                        emails=(rec.emails[0], mail(2, "urgent", "i-s1", state="cancelled")))
    assert score(gt, cancelled)["detection"]["sudden_acted"] == 0


def test_error_to_email_latency_is_outbox_row_minus_event_arrival() -> None:
    gt, rec = detection_case()
    d = score(gt, rec)["detection"]
    assert d["error_emails_timed"] == 1
    assert d["p99_error_to_email_s"] == pytest.approx(2.5)


def test_an_error_emailed_only_in_a_digest_is_counted_but_not_timed() -> None:
    gt, rec = detection_case()
    digest = Records(incidents=rec.incidents, errors=rec.errors, catalog_codes=CODES,
                     emails=(Email(3, "digest", 1.0, (EmailItem("i-s1", "urgent"),
                                                      EmailItem("i-g1", "self_help"))),))
    d = score(gt, digest)["detection"]
    assert (d["error_emails_timed"], d["error_emails_in_digest"]) == (0, 1)
    assert d["p99_error_to_email_s"] is None
    assert score(gt, digest)["dispatch"]["emails_per_incident"] == 0.25


def test_emails_per_incident_and_self_help_share() -> None:
    gt, rec = detection_case()
    d = score(gt, rec)["dispatch"]
    assert d["emails_per_incident"] == 0.5  # 2 emails, 4 incidents
    # customer-fixable faults that failed in the run: g1 (self-help sent) and s2 (nothing)
    assert (d["customer_fixable_faults"], d["self_help_sent"], d["self_help_share"]) == (2, 1, 0.5)


def test_an_incident_without_a_catalog_code_matches_by_device_and_time() -> None:
    gt, _ = detection_case()
    rec = Records(incidents=(inc("i-off", "d2", "offline", day(16)),), catalog_codes=CODES)
    d = score(gt, rec)["detection"]
    assert d["false_alarms"] == 0
    assert d["recall_before_failure"] == 0.5  # g2 now flagged 9 days early


def test_an_incident_before_the_onset_is_a_false_alarm() -> None:
    gt, _ = detection_case()
    rec = Records(incidents=(inc("i-early", "d1", "E21", day(11)),), catalog_codes=CODES)
    d = score(gt, rec)["detection"]
    assert (d["false_alarms"], d["recall_before_failure"]) == (1, 0.0)


def test_an_incident_at_the_hard_failure_is_detected_but_not_early() -> None:
    gt, _ = detection_case()
    rec = Records(incidents=(inc("i-late", "d1", "E21", day(20), "error"),), catalog_codes=CODES)
    d = score(gt, rec)["detection"]
    assert (d["recall_before_failure"], d["recall_any"], d["false_alarms"]) == (0.0, 0.5, 0)
    assert d["median_lead_days"] is None


def test_home_rate_counts_windows_the_household_was_home_throughout() -> None:
    gt, rec = visit_case()
    d = score(gt, rec)["dispatch"]
    assert (d["visits"], d["visits_scored"], d["visits_beyond_truth"]) == (3, 2, 1)
    assert d["home_rate"] == 0.5
    assert d["home_minutes_share"] == 0.5


def test_baseline_home_rate_is_on_the_same_incidents() -> None:
    gt, rec = visit_case()
    d = score(gt, rec)["dispatch"]
    assert d["baseline_paired"] == 2
    assert (d["home_rate_paired"], d["home_rate_baseline"]) == (0.5, 0.5)
    assert d["baseline_no_slot"] == 1


def test_a_visit_proposed_during_a_vacation_is_an_away_proposal() -> None:
    gt, rec = visit_case()
    d = score(gt, rec)["dispatch"]
    assert (d["away_proposals"], d["away_proposals_share"]) == (1, pytest.approx(1 / 3))


def test_a_visit_window_partly_away_is_not_home() -> None:
    gt, rec = visit_case()
    part = Records(incidents=rec.incidents, catalog_codes=CODES,
                   visits=(Visit(1, "i-s1", day(31, 11, ), day(31, 13), "held"),))
    d = score(gt, part)["dispatch"]
    assert d["home_rate"] == 0.0
    assert d["home_minutes_share"] == 0.5


def test_counts_report_faults_by_kind_and_device_days() -> None:
    gt, rec = detection_case()
    c = score(gt, rec)["counts"]
    assert c["faults"] == {"gradual": 2, "sudden": 2}
    assert (c["incidents"], c["emails"], c["devices"], c["device_days"]) == (4, 2, 4, 120.0)


def test_an_empty_run_scores_without_dividing_by_zero() -> None:
    doc = score(truth([]), Records())
    assert doc["detection"]["recall_before_failure"] is None
    assert doc["dispatch"]["home_rate"] is None
    assert doc["detection"]["false_alarms_per_1000_device_days"] == 0.0


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0], 99) == 10.0
    assert percentile([0.0, 100.0], 10) == pytest.approx(10.0)
    assert percentile([], 50) is None


def test_false_alarms_during_a_devices_network_trouble_are_counted_apart() -> None:
    gt, _ = detection_case()
    gt["network"] = [{"device_id": "d2", "kind": "disconnect", "start_ms": day(15),
                      "end_ms": day(15, 6), "skew_ms": 0}]
    rec = Records(incidents=(inc("i-off", "d2", "F9", day(15, 7)),
                             inc("i-fa", "d1", "E90", day(33))), catalog_codes=CODES)
    d = score(gt, rec)["detection"]
    assert (d["false_alarms"], d["false_alarms_in_network_trouble"]) == (2, 1)


def test_an_offline_incident_during_a_disconnect_is_a_detection_not_a_false_alarm() -> None:
    gt = truth([])
    gt["network"] = [{"device_id": "d1", "kind": "disconnect", "start_ms": day(10),
                      "end_ms": day(10.5), "skew_ms": 0},
                     {"device_id": "d2", "kind": "duplicates", "start_ms": day(12),
                      "end_ms": day(13), "skew_ms": 0}]
    codes = {"M": CODES["M"] | {"C01"}}
    rec = Records(incidents=(inc("i-net", "d1", "C01", day(10.2)),  # during the outage
                             inc("i-dup", "d2", "C01", day(12.5))),  # duplicates: not silent
                  catalog_codes=codes)
    d = score(gt, rec)["detection"]
    assert (d["network_outages"], d["network_outages_flagged"]) == (1, 1)
    assert d["false_alarms"] == 1
    assert score(gt, rec)["details"]["false_alarms"] == [f"d2:C01:{day(12.5)}"]
    # without the connectivity code in the model's catalog there is nothing to match
    assert score(gt, Records(incidents=rec.incidents, catalog_codes=CODES)
                 )["detection"]["network_outages"] == 0


def test_each_rule_reports_its_precision_on_the_simulated_fleet() -> None:
    from dataclasses import replace

    gt, rec = detection_case()
    src = {"i-g1": ("drain_pump_wear",), "i-fa": ("drain_pump_wear", "code:F9")}
    rec = replace(rec, incidents=tuple(replace(i, sources=src.get(i.key, ()))
                                       for i in rec.incidents))
    rules = score(gt, rec)["rules"]
    assert rules["drain_pump_wear"] == {"incidents": 2, "true": 1, "symptom": 0, "false": 1,
                                        "precision": 0.5}
    assert rules["code:F9"]["precision"] == 0.0
    assert rules["(none)"] == {"incidents": 2, "true": 2, "symptom": 0, "false": 0,
                               "precision": 1.0}


def test_only_problem_emails_count_per_incident() -> None:
    from fixahead.lab.evaluation.score import _dispatch
    from fixahead.lab.evaluation.types import Incident

    inc = "i-1"
    sent = Email(1, "visit", 1.0, (EmailItem(inc, "visit"),))
    reply = Email(2, "confirmation", 2.0, (EmailItem(inc, "confirmation"),), reply=True)
    records = Records(incidents=(Incident(inc, "d1", "E60", "prediction", "technician", 0),),
                      emails=(sent, reply))
    out = _dispatch([], {}, records, [sent, reply], {inc: [(sent, "visit")]}, {}, {}, 0, 1)
    assert out["emails"] == 2 and out["replies_to_customers"] == 1
    assert out["emails_per_incident"] == 1.0 and out["appointment_emails"] == 0


def _worn_compressor(incidents: tuple) -> tuple[dict, Records]:  # type: ignore[type-arg]
    row = fault("w1", "d2", "gradual", "F2", day(14), day(25), False)
    return truth([dict(row, mechanism="compressor_wear")]), Records(incidents=incidents,
                                                                     catalog_codes=CODES)


def test_a_code_the_faults_physics_sets_off_is_a_symptom_not_a_false_alarm() -> None:
    """A worn compressor runs longer (what the dusty-condenser rule F9 reads): an F9 incident
    on that fridge is about a real fault, under another name; it does not detect the F2."""
    gt, rec = _worn_compressor((inc("i-f9", "d2", "F9", day(18)),))
    doc = score(gt, rec)
    d = doc["detection"]
    assert (d["false_alarms"], d["symptom_incidents"]) == (0, 1)
    assert d["false_alarms_and_symptoms_per_1000_device_days"] == pytest.approx(1000 / 120)
    assert d["gradual_detected_before_failure"] == 0
    assert doc["details"]["symptom_incidents_by_code"] == {"F9": 1}
    assert doc["rules"]["(none)"]["symptom"] == 1


def test_a_code_the_faults_physics_does_not_set_off_stays_a_false_alarm() -> None:
    gt, rec = _worn_compressor((inc("i-e21", "d2", "E21", day(18)),  # not a fridge symptom
                                inc("i-f9", "d1", "F9", day(18))))  # another device
    d = score(gt, rec)["detection"]
    assert (d["false_alarms"], d["symptom_incidents"]) == (2, 0)


def test_a_failed_gradual_fault_lasts_to_the_end_of_the_run() -> None:
    """The simulator never repairs a gradual fault: its own code days after the failure is
    still about it, and so is a symptom; before the onset both are false alarms."""
    gt, rec = _worn_compressor((inc("i-late", "d2", "F2", day(35)),
                                inc("i-f7", "d2", "F9", day(38)),
                                inc("i-early", "d2", "F9", day(13))))
    d = score(gt, rec)["detection"]
    assert (d["false_alarms"], d["symptom_incidents"]) == (1, 1)
    assert d["recall_any"] == 1.0
