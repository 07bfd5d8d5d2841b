from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.booking import (
    Busy,
    SearchConfig,
    Technician,
    VisitRequest,
    search,
)
from dispatch.geo import haversine_km
from fixahead.lab.firstfree import first_free_slot

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin
HOME = (52.52, 13.40)


def tech(tid: int = 1, skills: tuple[str, ...] = ("washer",), **kw: object) -> Technician:
    values: dict[str, object] = dict(technician_id=tid, name=f"t{tid}", skills=frozenset(skills),
                                     lat=52.50, lon=13.35, tz="Europe/Berlin")
    values.update(kw)
    return Technician(**values)  # type: ignore[arg-type]


def req(**kw: object) -> VisitRequest:
    values: dict[str, object] = dict(skill="washer", minutes=60, lat=HOME[0], lon=HOME[1])
    values.update(kw)
    return VisitRequest(**values)  # type: ignore[arg-type]


def flat(_: datetime) -> float:
    return 0.5


def local(offer_start: datetime) -> datetime:
    return offer_start.astimezone(BERLIN)


def test_haversine_berlin_to_hamburg_is_about_255_km() -> None:
    assert 250 < haversine_km(52.52, 13.40, 53.55, 9.99) < 260


def test_only_technicians_with_the_skill_and_territory_are_offered() -> None:
    techs = [tech(1, ("fridge",)), tech(2, territory="north"), tech(3, territory="south")]
    offers = search(req(territory="south"), techs, {}, flat, now=NOW)
    assert offers and {o.technician_id for o in offers} == {3}


def test_technicians_too_far_away_are_not_offered() -> None:
    far = tech(1, lat=48.14, lon=11.58)  # Munich
    assert search(req(), [far], {}, flat, now=NOW) == []


def test_slots_fall_inside_working_hours_and_skip_days_off_and_weekends() -> None:
    t = tech(days_off=frozenset({date(2026, 11, 24)}))
    cfg = SearchConfig(alternatives=200, spacing_minutes=0)
    offers = search(req(), [t], {}, flat, now=NOW, config=cfg)
    assert offers
    for o in offers:
        s, e = local(o.start), local(o.end)
        assert s.weekday() < 5 and s.date() != date(2026, 11, 24)
        assert time(8, 0) <= s.time() and e.time() <= time(17, 0) and s.date() == e.date()


def test_the_next_job_starts_only_after_travel_from_the_previous_one() -> None:
    # a job 08:00-11:00 local 20 km east: 40 km/h means 30 min travel, next start 11:30
    east = (52.52, 13.40 + 20 / 67.8)
    busy = {1: [Busy(datetime(2026, 11, 23, 7, tzinfo=UTC), datetime(2026, 11, 23, 10, tzinfo=UTC),
                     *east)]}
    cfg = SearchConfig(days=1, lead_minutes=0, alternatives=50, spacing_minutes=0)
    offers = search(req(), [tech()], busy, flat, now=NOW, config=cfg)
    first = min(local(o.start) for o in offers)
    assert first == datetime(2026, 11, 23, 11, 30, tzinfo=BERLIN)


def test_a_slot_leaves_time_to_reach_the_following_job() -> None:
    east = (52.52, 13.40 + 20 / 67.8)
    busy = {1: [Busy(datetime(2026, 11, 23, 12, tzinfo=UTC), datetime(2026, 11, 23, 13, tzinfo=UTC),
                     *east)]}  # 13:00-14:00 local
    cfg = SearchConfig(days=1, lead_minutes=0, alternatives=50, spacing_minutes=0)
    offers = search(req(), [tech()], busy, flat, now=NOW, config=cfg)
    for o in offers:
        s = local(o.start)
        if s.hour < 13:
            assert s + timedelta(minutes=90) <= datetime(2026, 11, 23, 13, tzinfo=BERLIN)


def test_the_best_slot_is_when_the_household_is_likely_home() -> None:
    def evenings(when: datetime) -> float:
        return 0.95 if when.astimezone(BERLIN).hour >= 15 else 0.2

    offers = search(req(), [tech()], {}, evenings, now=NOW)
    assert local(offers[0].start).hour >= 15
    assert offers[0].p_home == 0.95


def test_travel_from_home_base_counts_inside_working_hours() -> None:
    cfg = SearchConfig(lead_minutes=0)
    offer = first_free_slot(req(), [tech()], {}, now=NOW, config=cfg)  # ~6 min away
    assert offer is not None
    assert local(offer.start) == datetime(2026, 11, 23, 8, 30, tzinfo=BERLIN)


def test_an_urgent_visit_takes_the_earliest_slot_when_someone_is_likely_home() -> None:
    def evenings(when: datetime) -> float:
        return 0.95 if when.astimezone(BERLIN).hour >= 15 else 0.2

    at_home_base = tech(lat=HOME[0], lon=HOME[1])  # no travel before the first job
    offers = search(req(urgent=True), [at_home_base], {}, evenings, now=NOW)
    assert local(offers[0].start) == datetime(2026, 11, 23, 15, 0, tzinfo=BERLIN)
    # nobody likely home within a day: the earliest slot all the same
    offers = search(req(urgent=True), [at_home_base], {}, lambda when: 0.3, now=NOW)
    assert local(offers[0].start) == datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    # likely home only in two days: not worth waiting for
    def later(when: datetime) -> float:
        return 0.95 if when.astimezone(BERLIN).day >= 25 else 0.3

    offers = search(req(urgent=True), [at_home_base], {}, later, now=NOW)
    assert local(offers[0].start) == datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)


def test_alternatives_are_spread_apart() -> None:
    offers = search(req(), [tech(1), tech(2)], {}, flat, now=NOW)
    assert len(offers) == 5
    starts = sorted(o.start for o in offers)
    assert all(b - a >= timedelta(minutes=120) for a, b in itertools.pairwise(starts))


def test_working_hours_follow_the_technicians_clock_across_dst() -> None:
    # Monday 30 Mar 2026, the day after spring forward: 08:00 CEST is 06:00Z
    now = datetime(2026, 3, 30, 5, 0, tzinfo=UTC)
    offer = first_free_slot(req(), [tech(lat=HOME[0], lon=HOME[1])], {}, now=now,
                            config=SearchConfig(lead_minutes=0))
    assert offer is not None and offer.start == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


def test_first_free_slot_is_the_earliest_feasible_slot_of_any_technician() -> None:
    busy = {1: [Busy(datetime(2026, 11, 23, 7, tzinfo=UTC), datetime(2026, 11, 23, 16, tzinfo=UTC),
                     *HOME)]}
    t2 = tech(2, work_start=time(10, 0), lat=HOME[0], lon=HOME[1])
    offer = first_free_slot(req(), [tech(1), t2], busy, now=NOW,
                            config=SearchConfig(lead_minutes=0))
    assert offer is not None and offer.technician_id == 2
    assert local(offer.start) == datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)
