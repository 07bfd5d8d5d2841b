from __future__ import annotations

import itertools
from collections.abc import Callable
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


def _hourly(values: dict[tuple[int, int], float], default: float) -> Callable[[datetime], float]:
    """P(home) from a table of (Berlin day of month, hour) -> P, else `default`."""
    def p(when: datetime) -> float:
        t = when.astimezone(BERLIN)
        return values.get((t.day, t.hour), default)
    return p


AT_HOME_BASE = {"lat": HOME[0], "lon": HOME[1]}  # no travel: the first slot is 08:00 Monday


def test_the_first_free_slot_is_kept_when_others_are_only_slightly_likelier() -> None:
    # 08:00 Monday at 0.8; 15:00 the same day at 0.825: within the 0.03 margin of full
    # evidence (a score of P less waiting would have moved the visit for it)
    p = _hourly({(23, 15): 0.825}, 0.8)
    offers = search(req(), [tech(**AT_HOME_BASE)], {}, p, now=NOW)
    assert local(offers[0].start) == datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    # the likelier slot is still the first alternative
    assert local(offers[1].start) == datetime(2026, 11, 23, 15, 0, tzinfo=BERLIN)


def test_a_clearly_likelier_slot_is_taken_and_the_earliest_of_a_tie() -> None:
    # 0.9 on Tuesday 15:00, 0.89 on Wednesday 15:00 (a tie), 0.6 everywhere else
    p = _hourly({(24, 15): 0.9, (25, 15): 0.89, (26, 15): 0.91}, 0.6)
    offers = search(req(), [tech(**AT_HOME_BASE)], {}, p, now=NOW)
    # Thursday's 0.91 is the likeliest, but Tuesday's 0.9 is within the tie: the earlier one
    assert local(offers[0].start) == datetime(2026, 11, 24, 15, 0, tzinfo=BERLIN)
    starts = sorted(o.start for o in offers)
    assert all(b - a >= timedelta(minutes=120) for a, b in itertools.pairwise(starts))


def test_thin_evidence_asks_more_of_a_later_slot() -> None:
    # Tuesday 15:00 is 0.07 likelier than the first slot, 0.048 after its 31 hours of waiting
    # (0.05 / 3 a day): enough with four weeks of evidence (margin 0.03), not with one week
    # (0.03 * sqrt(4) = 0.06)
    p = _hourly({(24, 15): 0.87}, 0.8)
    four_weeks = search(req(), [tech(**AT_HOME_BASE)], {}, p, now=NOW,
                        config=SearchConfig(evidence_days=28))
    one_week = search(req(), [tech(**AT_HOME_BASE)], {}, p, now=NOW,
                      config=SearchConfig(evidence_days=7))
    assert local(four_weeks[0].start) == datetime(2026, 11, 24, 15, 0, tzinfo=BERLIN)
    assert local(one_week[0].start) == datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)


def test_a_homebody_household_keeps_the_first_slot_a_worker_would_leave() -> None:
    # the same 0.048 gain after waiting as above, with four weeks of evidence: a household
    # whose routine reads as home all day (availability_routine) needs 0.03 + 0.1 * 0.9
    p = _hourly({(24, 15): 0.87}, 0.8)
    worker = search(req(), [tech(**AT_HOME_BASE)], {}, p, now=NOW,
                    config=SearchConfig(evidence_days=28, homebody=0.05))
    homebody = search(req(), [tech(**AT_HOME_BASE)], {}, p, now=NOW,
                      config=SearchConfig(evidence_days=28, homebody=0.9))
    assert local(worker[0].start) == datetime(2026, 11, 24, 15, 0, tzinfo=BERLIN)
    assert local(homebody[0].start) == datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)


def test_a_much_later_slot_must_make_up_for_the_wait() -> None:
    # 0.1 likelier but ten days later: a wait worth 0.17 of P(home) at 0.05 / 3 a day
    p = _hourly({(3, 15): 0.9}, 0.8)
    offers = search(req(), [tech(**AT_HOME_BASE)], {}, p, now=NOW)
    assert local(offers[0].start) == datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)


def test_among_slots_at_the_first_time_the_one_with_less_travel_is_kept() -> None:
    # both can be there at 08:30 (the grid after travel): one 4 km away, one 12 km
    near = tech(1, lat=HOME[0] + 0.036, lon=HOME[1])
    far = tech(2, lat=HOME[0] - 0.11, lon=HOME[1])
    cfg = SearchConfig(lead_minutes=0)
    offers = search(req(), [far, near], {}, flat, now=NOW, config=cfg)
    assert local(offers[0].start) == datetime(2026, 11, 23, 8, 30, tzinfo=BERLIN)
    assert offers[0].technician_id == 1
    assert offers[0].travel_minutes < 10


def test_an_urgent_visit_ignores_the_evidence_margin() -> None:
    def evenings(when: datetime) -> float:
        return 0.95 if when.astimezone(BERLIN).hour >= 15 else 0.2

    offers = search(req(urgent=True), [tech(**AT_HOME_BASE)], {}, evenings, now=NOW,
                    config=SearchConfig(evidence_days=1))
    assert local(offers[0].start) == datetime(2026, 11, 23, 15, 0, tzinfo=BERLIN)
