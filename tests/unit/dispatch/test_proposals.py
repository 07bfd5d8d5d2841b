from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.appointments import VisitRow, change_kind
from dispatch.booking import Offer
from dispatch.proposals import alternatives

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)  # Tuesday 10:00 in Berlin


def offer(hours: float, tech: int = 1) -> Offer:
    start = T0 + timedelta(hours=hours)
    return Offer(tech, start, start + timedelta(hours=1), 1.0, 0.9, 0.0)


def test_alternatives_are_on_other_days_or_times_of_day_in_date_order() -> None:
    best = offer(0)
    offers = [best, offer(2), offer(48), offer(5), offer(24), offer(26)]
    # in score order: Tuesday afternoon, Thursday morning; Tuesday 15:00 repeats the first
    picked = alternatives(best, offers, "Europe/Berlin")
    assert [o.start for o in picked] == [T0 + timedelta(hours=2), T0 + timedelta(hours=48)]


def test_alternatives_never_repeat_the_proposed_slot() -> None:
    best = offer(0)
    twin = offer(0, tech=2)
    picked = alternatives(best, [best, twin, offer(24), offer(50)], "Europe/Berlin")
    assert twin not in picked and len(picked) == 2


def test_fewer_offers_give_fewer_alternatives() -> None:
    best = offer(0)
    assert alternatives(best, [best, offer(1)], "Europe/Berlin") == []


def visit(vid: int, state: str) -> VisitRow:
    return VisitRow(vid, "inc-1", state, 1, "Bo", T0, T0 + timedelta(hours=1), None)


def test_what_changed_since_the_customer_was_told() -> None:
    assert change_kind(1, "held", "held", visit(1, "held"), "customer") is None
    assert change_kind(1, "held", "booked", visit(1, "booked"), "customer") == "confirmed"
    assert change_kind(1, "held", "booked", visit(1, "booked"), "scheduler") == "booked"
    assert change_kind(1, "booked", "released", visit(2, "booked"), "customer") == "moved"
    assert change_kind(1, "held", "cancelled", None, "customer") == "cancelled"
    assert change_kind(1, "held", "released", None, "system") == "lapsed"
    assert change_kind(None, "", "", visit(3, "booked"), "scheduler") == "booked"
    assert change_kind(1, "cancelled", "cancelled", None, "customer") is None


def test_a_visit_moved_in_place_is_a_move_and_the_same_place_is_no_change() -> None:
    v = visit(1, "booked")
    assert change_kind(1, "booked", "booked", v, "scheduler", (T0, 1)) is None
    earlier = T0 - timedelta(days=1)
    assert change_kind(1, "booked", "booked", v, "scheduler", (earlier, 1)) == "moved"
    assert change_kind(1, "booked", "booked", v, "scheduler", (T0, 2)) == "moved"
