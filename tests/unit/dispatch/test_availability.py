"""The availability model on hand-built households, outcomes as evidence, and calibration."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from dispatch.availability import (
    AvailabilityConfig,
    days_from_confidence,
    population_prior,
    predict,
)
from dispatch.availability_evidence import (
    confirmed_visit,
    hour_of_week,
    nobody_home,
    outcome_for,
)
from dispatch.availability_pick import best_window, window_p
from tests.support.availability import (
    NOW,
    Routine,
    events,
    late_riser,
    night_shift,
    nine_to_five,
    retiree,
)


def pick_hour(ts: list[int], weeks: int) -> int:
    """Start hour of the window picked among 2-hour windows 08-20 over the next three days."""
    a = predict(ts, tz="UTC", now=NOW, consent=True, observed_since=NOW - timedelta(weeks=weeks))
    day = int(NOW.timestamp()) // 86400
    starts = np.array([(day + d) * 86400 + h * 3600 for d in (1, 2, 3) for h in range(8, 20, 2)])
    return int(starts[best_window(window_p(a.p_home, starts, "UTC"))] % 86400 // 3600)


@pytest.mark.parametrize("weeks", [1, 2, 4])
def test_a_strict_nine_to_five_worker_is_booked_in_the_evening(weeks: int) -> None:
    assert pick_hour(events(weeks, nine_to_five), weeks) == 18


@pytest.mark.parametrize("weeks", [2, 4])
def test_a_night_shift_worker_is_booked_in_the_afternoon(weeks: int) -> None:
    assert pick_hour(events(weeks, night_shift), weeks) in (14, 16, 18)


@pytest.mark.parametrize("weeks", [1, 2, 4])
def test_a_retiree_home_all_day_keeps_the_first_free_window(weeks: int) -> None:
    assert pick_hour(events(weeks, retiree), weeks) == 8


@pytest.mark.parametrize("routine", [nine_to_five, night_shift, retiree, late_riser])
def test_each_hour_is_as_likely_home_as_the_likeliest_window_around_it(routine: Routine) -> None:
    # home for a whole 2-hour window means home in both its hours: what the CLI prints per
    # hour never says less than the window model, which reads the hour against the whole day
    a = predict(events(2, routine), tz="UTC", now=NOW, consent=True)
    assert a.p_window is not None
    assert np.all(a.p_home >= a.p_window - 1e-12)
    assert np.all(a.p_home >= np.roll(a.p_window, 1) - 1e-12)


def test_a_late_riser_out_every_evening_is_offered_the_morning_by_the_hours_alone() -> None:
    # someone booking from the CLI's hourly P(home) alone (the likeliest window, no margin)
    a = predict(events(2, late_riser), tz="UTC", now=NOW, consent=True)
    day = int(NOW.timestamp()) // 86400
    starts = np.array([(day + 1) * 86400 + h * 3600 for h in range(8, 20, 2)])
    p = window_p(a.p_home, starts, "UTC")
    assert p[0] > p[-1] + 0.1  # 08:00-10:00 against 18:00-20:00, when this home is empty


@pytest.mark.parametrize("minutes", [(5, 7, 9, 30, 33, 50), (5, 7, 9, 20, 30, 33, 41, 50, 55)])
def test_a_smart_home_reporting_every_room_reads_its_empty_evenings(
        minutes: tuple[int, ...]) -> None:
    # 72 or 108 activations a day (doors, cupboards, motion), out 16:00-20:00 every day: more
    # than appliances report, so the coefficients fitted on ambient logs read it (blended with
    # the appliance ones at 72 a day; the appliance ones alone said 0.74-0.88 for these evenings)
    def busy_out_evenings(wd: int) -> list[tuple[int, int]]:
        return [(h, m) for h in [*range(7, 16), *range(20, 23)] for m in minutes]

    day = int(NOW.timestamp()) // 86400
    starts = np.array([(day + 1) * 86400 + h * 3600 for h in range(8, 20, 2)])
    for weeks in (1, 2):
        a = predict(events(weeks, busy_out_evenings), tz="UTC", now=NOW, consent=True)
        assert a.p_window is not None
        p = a.p_window[hour_of_week(starts, "UTC")]
        assert p[0] > 0.9 and p[4] < 0.5 and p[5] < 0.5  # 08:00 home; 16:00 and 18:00 out
        assert window_p(a.p_home, starts, "UTC")[4:].max() < 0.5  # the CLI's hours too


def test_two_events_a_day_stay_close_to_the_prior() -> None:
    a = predict(events(2, lambda wd: [(7, 30), (19, 30)]), tz="UTC", now=NOW, consent=True)
    office = slice(24 + 10, 24 + 16)  # Tuesday 10:00-16:00: no events, but no proof either
    assert np.all(np.abs(a.p_home[office] - population_prior()[office]) < 0.2)
    # calibrated on simulated evenings out: an evening hour used daily is clearly likelier
    # than the quiet office hours, not certain
    assert a.p_home[24 + 19] > a.p_home[office].max() + 0.3


def test_quiet_hours_are_weak_evidence_and_events_strong() -> None:
    a = predict(events(1, nine_to_five), tz="UTC", now=NOW, consent=True)
    assert 0.2 < a.p_home[24 + 12] < population_prior()[24 + 12]  # Tuesday noon: quiet
    assert a.p_home[24 + 19] > 0.75  # Tuesday 19:00: used every day (evenings out happen)


def test_an_hour_used_again_and_again_is_above_the_prior_however_sparse_the_rest() -> None:
    # a single washer start a day, always at 19:00: someone was home at 19:00 every day
    a = predict(events(2, lambda wd: [(19, 0)]), tz="UTC", now=NOW, consent=True)
    assert np.all(a.p_home[np.arange(7) * 24 + 19] > population_prior()[19] + 0.05)
    # and an hour used on one weekday only rises on that weekday
    b = predict(events(6, lambda wd: [(12, 10)] * (wd == 1) + [(19, 10)]), tz="UTC", now=NOW,
                consent=True)
    assert b.p_home[24 + 12] > b.p_home[3 * 24 + 12] + 0.15


def test_recent_weeks_weigh_more_than_old_weeks() -> None:
    old = [t for t in events(8, lambda wd: [(10, 15)]) if t < NOW.timestamp() - 4 * 7 * 86400]
    recent = events(4, lambda wd: [(10, 15)])
    since = NOW - timedelta(weeks=8)
    a_old = predict(old, tz="UTC", now=NOW, consent=True, observed_since=since)
    a_new = predict(recent, tz="UTC", now=NOW, consent=True, observed_since=since)
    assert a_new.p_home[24 + 10] > a_old.p_home[24 + 10]


def test_nobody_home_outcomes_lower_and_confirmed_visits_raise_p_home() -> None:
    ts = events(2, retiree)
    base = predict(ts, tz="UTC", now=NOW, consent=True)
    tue = (NOW - timedelta(days=6)).replace(hour=10)
    away = predict(ts, tz="UTC", now=NOW, consent=True,
                   outcomes=nobody_home(tue, tue + timedelta(hours=2)))
    assert away.p_home[24 + 10] < base.p_home[24 + 10] - 0.15
    quiet = predict(events(2, nine_to_five), tz="UTC", now=NOW, consent=True)
    seen = predict(events(2, nine_to_five), tz="UTC", now=NOW, consent=True,
                   outcomes=confirmed_visit(tue, tue + timedelta(hours=2)))
    assert seen.p_home[24 + 10] > quiet.p_home[24 + 10] + 0.1


def test_a_customer_picking_another_time_moves_both_windows() -> None:
    ts = events(2, retiree)
    base = predict(ts, tz="UTC", now=NOW, consent=True)
    tue = (NOW - timedelta(days=6)).replace(hour=10)
    thu = (NOW - timedelta(days=4)).replace(hour=16)
    got = predict(ts, tz="UTC", now=NOW, consent=True, outcomes=outcome_for(
        "picked_another", tue, tue + timedelta(hours=2),
        (thu, thu + timedelta(hours=2))))
    assert got.p_home[24 + 10] < base.p_home[24 + 10]
    assert got.p_home[72 + 16] >= base.p_home[72 + 16]


def test_unknown_outcome_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown outcome kind"):
        outcome_for("maybe", NOW, NOW + timedelta(hours=1))


def test_without_consent_the_prior_is_used_with_zero_confidence() -> None:
    a = predict(events(4, retiree), tz="UTC", now=NOW, consent=False)
    assert np.array_equal(a.p_home, population_prior()) and a.overall_confidence == 0.0


def test_without_events_the_prior_is_returned() -> None:
    a = predict([], tz="Europe/Berlin", now=NOW, consent=True)
    assert np.allclose(a.p_home, population_prior(), atol=0.01)


def test_hours_are_local_to_the_households_zone() -> None:
    ts = events(3, lambda wd: [(h, 30) for h in range(6, 22)] if wd == 1 else [])
    a = predict(ts, tz="Asia/Tokyo", now=NOW, consent=True)  # UTC 06-21 is Tokyo 15-06
    assert a.p_home[24 + 16] > a.p_home[24 + 10]


def test_the_first_window_is_kept_unless_another_is_clearly_likelier() -> None:
    assert best_window(np.array([0.6, 0.63, 0.62])) == 0
    assert best_window(np.array([0.3, 0.8, 0.8])) == 1
    with pytest.raises(ValueError):
        best_window(np.array([]))


def test_invalid_config_is_refused() -> None:
    with pytest.raises(ValueError):
        AvailabilityConfig(half_life_weeks=0)
    with pytest.raises(ValueError):
        AvailabilityConfig(home_given_event=1.5)


def test_calibrated_on_simulated_households_better_than_the_prior() -> None:
    from fixahead.lab.bench.availability import evaluate

    r = evaluate(per_kind=6, seed=1)
    assert r["brier"] < r["brier_prior"]
    for b in r["reliability"]:
        if b["n"] >= 100:
            assert abs(b["predicted"] - b["observed"]) < 0.15, b


def test_thin_evidence_asks_more_of_a_later_window_and_near_ties_go_to_the_earliest() -> None:
    p = np.array([0.6, 0.645, 0.5])
    assert best_window(p, days=28) == 1  # 0.045 over the first: enough with four weeks
    assert best_window(p, days=7) == 0  # one week: needs 0.06
    assert best_window(np.array([0.3, 0.79, 0.8]), days=28) == 1  # within 0.02 of the best


def test_the_days_of_history_are_read_back_from_the_stored_confidence() -> None:
    a = predict(events(3, retiree), tz="UTC", now=NOW, consent=True)
    assert a.days > 20
    assert days_from_confidence(a.confidence) == pytest.approx(a.days)
    assert days_from_confidence(np.zeros(168)) == 0.0  # the prior alone
