from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from dispatch.policy import Action, Delivery, PolicyConfig, decide, end_of_quiet_hours
from dispatch.types import CustomerInfo, FaultInfo, IncidentInfo

DRAIN = FaultInfo("E21", "Water does not drain", customer_fixable=True, skill="washer",
                  self_help_steps=("Clean the pump filter.",))
MOTOR = FaultInfo("E50", "Motor fault", skill="washer", parts=("motor-brush",))
LEAK = FaultInfo("E90", "Water leak", severity="critical", urgent=True, skill="washer")


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def customer(tz: str = "Europe/Berlin", **kw: object) -> CustomerInfo:
    values: dict[str, object] = dict(customer_id="c1", email="a@example.org", tz=tz,
                                     quiet_start=time(22, 0), quiet_end=time(7, 0),
                                     consent_email=True)
    values.update(kw)
    return CustomerInfo(**values)  # type: ignore[arg-type]


def incident(fault: FaultInfo = DRAIN, **kw: object) -> IncidentInfo:
    values: dict[str, object] = dict(incident_id="inc-1", device_id="d1", model_id="WM-800",
                                     fault=fault, opened_at=z("2026-11-22T12:00:00"))
    values.update(kw)
    return IncidentInfo(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tz", "now", "expected"),
    [
        # daytime everywhere: now
        ("Europe/Berlin", "2026-11-22T12:00:00", "2026-11-22T12:00:00"),
        # 23:30 in Berlin (winter, +1): 07:00 next morning is 06:00Z
        ("Europe/Berlin", "2026-11-22T22:30:00", "2026-11-23T06:00:00"),
        # 03:00 in New York (EST, -5): 07:00 is 12:00Z
        ("America/New_York", "2026-11-22T08:00:00", "2026-11-22T12:00:00"),
        # 22:30 in Tokyo (+9, no DST): 07:00 next day is 22:00Z the same UTC day
        ("Asia/Tokyo", "2026-11-22T13:30:00", "2026-11-22T22:00:00"),
        # Berlin spring forward (29 Mar 2026): the night has 8 hours, 07:00 CEST is 05:00Z
        ("Europe/Berlin", "2026-03-28T22:00:00", "2026-03-29T05:00:00"),
        # Berlin fall back (25 Oct 2026): the night has 10 hours, 07:00 CET is 06:00Z
        ("Europe/Berlin", "2026-10-24T21:00:00", "2026-10-25T06:00:00"),
        # New York spring forward (8 Mar 2026): 01:00 EST, quiet ends 07:00 EDT = 11:00Z
        ("America/New_York", "2026-03-08T06:00:00", "2026-03-08T11:00:00"),
        # New York fall back (1 Nov 2026): 01:30 EDT (first pass), ends 07:00 EST = 12:00Z
        ("America/New_York", "2026-11-01T05:30:00", "2026-11-01T12:00:00"),
        # the second pass of 01:30 (EST) is still quiet: same end
        ("America/New_York", "2026-11-01T06:30:00", "2026-11-01T12:00:00"),
    ],
)
def test_quiet_hours_end_in_the_customers_time_zone(tz: str, now: str, expected: str) -> None:
    decision = decide(incident(), customer(tz), now=z(now))
    assert decision.send_at == z(expected)
    assert decision.delivery is (Delivery.NOW if now == expected else Delivery.DEFER)


def test_a_quiet_hours_end_inside_the_spring_forward_gap_moves_past_the_gap() -> None:
    c = customer("Europe/Berlin", quiet_start=time(23, 0), quiet_end=time(2, 30))
    # 02:30 does not exist on 29 Mar 2026 in Berlin; read with the old offset it is 01:30Z
    assert end_of_quiet_hours(z("2026-03-28T23:00:00"), c) == z("2026-03-29T01:30:00")


def test_an_ambiguous_quiet_hours_end_takes_its_first_pass() -> None:
    c = customer("America/New_York", quiet_start=time(23, 0), quiet_end=time(1, 30))
    # 01:30 happens twice on 1 Nov 2026; the first (EDT, -4) is 05:30Z
    assert end_of_quiet_hours(z("2026-11-01T04:00:00"), c) == z("2026-11-01T05:30:00")


def test_no_quiet_hours_when_start_equals_end() -> None:
    c = customer(quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert decide(incident(), c, now=z("2026-11-22T02:00:00")).delivery is Delivery.NOW


def test_customer_fixable_fault_gets_self_help() -> None:
    d = decide(incident(), customer(), now=z("2026-11-22T12:00:00"))
    assert (d.action, d.escalated, d.urgent) == (Action.SELF_HELP, False, False)
    assert d.idempotency_key == "inc-1:self_help"


def test_fault_that_came_back_after_self_help_escalates_to_a_visit() -> None:
    d = decide(incident(self_help_tried=True, recurred=True), customer(),
               now=z("2026-11-22T12:00:00"))
    assert (d.action, d.escalated) == (Action.VISIT, True)
    assert "came back" in d.reason
    assert d.idempotency_key == "inc-1:visit"


def test_fault_that_persisted_after_self_help_escalates_too() -> None:
    d = decide(incident(self_help_tried=True), customer(), now=z("2026-11-22T12:00:00"))
    assert (d.action, d.escalated) == (Action.VISIT, True)


def test_fault_needing_a_technician_proposes_a_visit() -> None:
    d = decide(incident(MOTOR), customer(), now=z("2026-11-22T12:00:00"))
    assert (d.action, d.escalated, d.delivery) == (Action.VISIT, False, Delivery.NOW)


def test_urgent_fault_is_emailed_now_even_in_quiet_hours_and_over_budget() -> None:
    d = decide(incident(LEAK), customer(), now=z("2026-11-22T23:30:00"),
               emails_by_day={date(2026, 11, 23): 5})
    assert (d.action, d.delivery, d.urgent) == (Action.URGENT, Delivery.NOW, True)
    assert d.send_at == z("2026-11-22T23:30:00")


@pytest.mark.parametrize("kw", [dict(consent_email=False), dict(unsubscribed=True),
                                dict(email="")])
def test_without_consent_the_incident_waits_for_a_scheduler(kw: dict[str, object]) -> None:
    for fault in (DRAIN, MOTOR, LEAK):
        d = decide(incident(fault), customer(**kw), now=z("2026-11-22T12:00:00"))
        assert (d.action, d.delivery, d.send_at) == (Action.WAIT, Delivery.NONE, None)
        assert d.urgent is fault.urgent


def test_second_problem_of_the_day_is_merged_into_the_evening_digest() -> None:
    # Berlin 13:00 local, one email already today: digest at 18:00 local = 17:00Z
    d = decide(incident(), customer(), now=z("2026-11-22T12:00:00"),
               emails_by_day={date(2026, 11, 22): 1})
    assert d.delivery is Delivery.DIGEST
    assert d.send_at == z("2026-11-22T17:00:00")
    assert d.digest_day == date(2026, 11, 22)


def test_budget_counts_the_customers_local_day_not_the_utc_day() -> None:
    # 20:00Z is 05:00 on 23 Nov in Tokyo: quiet, so send at 07:00 JST (22:00Z on 22 Nov)
    now = z("2026-11-22T20:00:00")
    utc_day_used = decide(incident(), customer("Asia/Tokyo"), now=now,
                          emails_by_day={date(2026, 11, 22): 1})
    assert utc_day_used.delivery is Delivery.DEFER
    local_day_used = decide(incident(), customer("Asia/Tokyo"), now=now,
                            emails_by_day={date(2026, 11, 23): 1})
    assert local_day_used.delivery is Delivery.DIGEST
    assert local_day_used.send_at == z("2026-11-23T09:00:00")  # 18:00 JST


def test_digest_after_the_digest_time_waits_for_the_end_of_the_night() -> None:
    # New York 19:00 EST (00:00Z): the next digest goes at 07:00 EST = 12:00Z
    d = decide(incident(), customer("America/New_York"), now=z("2026-11-23T00:00:00"),
               emails_by_day={date(2026, 11, 22): 1})
    assert d.delivery is Delivery.DIGEST
    assert d.send_at == z("2026-11-23T12:00:00")


def test_a_larger_budget_allows_more_emails_a_day() -> None:
    d = decide(incident(), customer(), now=z("2026-11-22T12:00:00"),
               emails_by_day={date(2026, 11, 22): 1}, config=PolicyConfig(emails_per_day=3))
    assert d.delivery is Delivery.NOW


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        decide(incident(), customer(), now=datetime(2026, 11, 22, 12))


def test_a_visit_proposal_over_the_budget_still_gets_its_own_email() -> None:
    d = decide(incident(MOTOR), customer(), now=z("2026-11-22T12:00:00"),
               emails_by_day={date(2026, 11, 22): 3})
    assert (d.action, d.delivery, d.digest_day) == (Action.VISIT, Delivery.NOW, None)
    assert "own email" in d.reason


def test_still_broken_after_self_help_proposes_an_escalated_visit() -> None:
    d = decide(replace(incident(DRAIN), still_broken=True), customer(),
               now=z("2026-11-22T12:00:00"))
    assert (d.action, d.escalated) == (Action.VISIT, True)


def test_waiting_for_the_scheduler_says_why_and_what_to_do() -> None:
    d = decide(incident(MOTOR), customer(unsubscribed=True), now=z("2026-11-22T12:00:00"))
    assert "unsubscribed" in d.reason and "call the customer" in d.reason
