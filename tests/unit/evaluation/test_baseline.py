"""The first-free-slot replay: same request, same moment, the calendar as it stood then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.booking import SearchConfig, Technician
from fixahead.lab.evaluation.baseline import CalendarEntry, first_free_slots, requests_from

MON = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)  # Monday, an hour before work starts (UTC)
TECH = Technician(1, "Ada", frozenset({"plumbing"}), 52.52, 13.40)
CFG = SearchConfig(lead_minutes=0)


def entry(vid: int, key: str, start: datetime, hours: float = 1.0, *, state: str = "held",
          proposed: datetime | None = MON, expires: datetime | None = None) -> CalendarEntry:
    return CalendarEntry(vid, key, 1, start, start + timedelta(hours=hours), 52.52, 13.40,
                         state, proposed, expires or MON + timedelta(days=2), "plumbing")


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def test_the_baseline_takes_the_first_free_slot_after_the_decision() -> None:
    ours = entry(1, "inc-1", MON + timedelta(hours=6))
    slots = first_free_slots(requests_from([ours]), [TECH], [ours], config=CFG)
    assert slots == {"inc-1": (ms(MON + timedelta(hours=1)), ms(MON + timedelta(hours=2)))}


def test_an_earlier_proposal_occupies_the_calendar_but_a_later_one_does_not() -> None:
    earlier = entry(1, "inc-1", MON + timedelta(hours=1), 2.0)
    ours = entry(2, "inc-2", MON + timedelta(hours=6))
    later = entry(3, "inc-3", MON + timedelta(hours=3), proposed=MON + timedelta(hours=1))
    slots = first_free_slots(requests_from([ours]), [TECH], [earlier, ours, later], config=CFG)
    assert slots["inc-2"] == (ms(MON + timedelta(hours=3)), ms(MON + timedelta(hours=4)))


def test_an_expired_hold_and_a_cancelled_visit_leave_the_calendar_free() -> None:
    expired = entry(1, "inc-1", MON + timedelta(hours=1), expires=MON - timedelta(minutes=1))
    cancelled = entry(2, "inc-2", MON + timedelta(hours=1), state="cancelled")
    booked = entry(3, "inc-3", MON + timedelta(hours=2), state="booked", proposed=None)
    ours = entry(4, "inc-4", MON + timedelta(hours=6))
    cal = [expired, cancelled, booked, ours]
    slots = first_free_slots(requests_from([ours]), [TECH], cal, config=CFG)
    assert slots["inc-4"] == (ms(MON + timedelta(hours=1)), ms(MON + timedelta(hours=2)))


def test_only_the_first_visit_of_an_incident_is_replayed_and_no_technician_means_none() -> None:
    first = entry(1, "inc-1", MON + timedelta(hours=6))
    moved = entry(2, "inc-1", MON + timedelta(hours=8), proposed=MON + timedelta(hours=1))
    reqs = requests_from([moved, first])
    assert [r.visit_id for r in reqs] == [1]
    assert first_free_slots(reqs, [], [first, moved], config=CFG) == {"inc-1": None}
