"""A household that is away: non-urgent visits after the likely return, urgent ones at once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dispatch.booking import SearchConfig, Technician, VisitRequest, not_before, search
from dispatch.policy import Action, decide
from dispatch.types import CustomerInfo, FaultInfo, IncidentInfo

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
BACK = NOW + timedelta(days=8, hours=3)
MOTOR = FaultInfo("E60", "Motor fault", skill="washer")
LEAK = FaultInfo("E90", "Water leak", severity="critical", urgent=True, skill="washer")
CUSTOMER = CustomerInfo("c1", "a@example.org", tz="Europe/Berlin", quiet_start=time(22),
                        quiet_end=time(7), consent_email=True)
TECH = Technician(1, "t1", frozenset({"washer"}), 52.50, 13.35, tz="Europe/Berlin")


def incident(fault: FaultInfo) -> IncidentInfo:
    return IncidentInfo("inc-1", "d1", "WM-800", fault, NOW)


def test_a_non_urgent_visit_is_planned_after_the_return_and_says_so() -> None:
    d = decide(incident(MOTOR), CUSTOMER, now=NOW, away_until=BACK)
    assert d.action is Action.VISIT and d.away_until == BACK
    assert "away" in d.reason and d.send_at == NOW  # the email itself is not held back


def test_an_urgent_fault_is_not_delayed_by_an_absence() -> None:
    d = decide(incident(LEAK), CUSTOMER, now=NOW, away_until=BACK)
    assert d.action is Action.URGENT and d.away_until is None


def test_a_return_already_past_changes_nothing() -> None:
    d = decide(incident(MOTOR), CUSTOMER, now=NOW, away_until=NOW - timedelta(hours=1))
    assert d.away_until is None and "away" not in d.reason


def test_the_slot_search_after_the_return_offers_nothing_earlier() -> None:
    req = VisitRequest(skill="washer", minutes=60, lat=52.52, lon=13.40)
    config = not_before(SearchConfig(), now=NOW, start=BACK)
    offers = search(req, [TECH], {}, lambda _: 0.5, now=NOW, config=config)
    assert offers and all(o.start >= BACK for o in offers)
    assert config.days >= SearchConfig().days + 8  # as many days to choose from as usual
    plain = search(req, [TECH], {}, lambda _: 0.5, now=NOW)
    assert min(o.start for o in plain) < BACK


def test_no_return_date_keeps_the_search_as_it_was() -> None:
    assert not_before(SearchConfig(), now=NOW, start=None) == SearchConfig()
