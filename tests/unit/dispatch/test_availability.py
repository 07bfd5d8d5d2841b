from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from numpy.testing import assert_allclose

from dispatch.availability import (
    AvailabilityConfig,
    hour_of_week,
    population_prior,
    predict,
    predict_reference,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # a Sunday


def usage(tz: str, weeks: int, weekday: int, hours: list[int], now: datetime = NOW) -> list[int]:
    """Events at local `hours` on `weekday` of each of the last `weeks` weeks."""
    zone = ZoneInfo(tz)
    out = []
    local_now = now.astimezone(zone)
    monday = (local_now - timedelta(days=local_now.weekday())).date()
    for w in range(weeks):
        day = monday - timedelta(weeks=w) + timedelta(days=weekday)
        for h in hours:
            t = datetime(day.year, day.month, day.day, h, 20, tzinfo=zone)
            if t <= now:
                out.append(int(t.timestamp()))
    return out


CONFIGS = {
    "default": AvailabilityConfig(),
    "raw_weak_pool": AvailabilityConfig(activity_floor=1.0, pool_strength=2.0),
    "spread": AvailabilityConfig(spread_hours=2, neighbour_weight=0.0),
    "separate_weekend": AvailabilityConfig(weekend_pooled=False, silent_day_weight=0.5,
                                           activity_quantile=0.5, activity_floor=1.0),
}


@pytest.mark.parametrize("since", [None, 10, 40])
@pytest.mark.parametrize("cfg_name", list(CONFIGS))
@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Asia/Tokyo"])
@pytest.mark.parametrize("case", ["fixed", "random", "empty", "single", "out_of_order", "dst"])
def test_kernel_matches_the_reference(tz: str, case: str, cfg_name: str,
                                      since: int | None) -> None:
    cfg = CONFIGS[cfg_name]
    rng = np.random.default_rng(7)
    now = NOW
    if case == "fixed":
        ts = usage(tz, 6, 1, [7, 19, 20]) + usage(tz, 3, 5, [10])
    elif case == "random":
        ts = [int(NOW.timestamp()) - int(x) for x in rng.integers(0, 9 * 7 * 86400, 500)]
    elif case == "empty":
        ts = []
    elif case == "single":
        ts = [int(NOW.timestamp()) - 3600]
    elif case == "out_of_order":
        ts = usage(tz, 5, 2, [8, 18])
        rng.shuffle(ts)
    else:  # spans the late-October DST change in Europe and the early-November one in the US
        now = datetime(2026, 11, 10, 12, tzinfo=UTC)
        ts = usage(tz, 4, 6, [1, 2, 3, 9], now=now)
    prior = population_prior()
    # data since `since` days before now (at an odd minute, so the first hour is partial)
    observed = None if since is None else now - timedelta(days=since, minutes=17)
    got = predict(np.array(ts, dtype=np.int64), tz=tz, now=now, consent=True, prior=prior,
                  observed_since=observed, config=cfg)
    want_p, want_c = predict_reference(ts, tz=tz, now=now, prior=list(prior),
                                       observed_since=observed, config=cfg)
    assert_allclose(got.p_home, want_p, rtol=1e-12, atol=1e-15)
    assert_allclose(got.confidence, want_c, rtol=1e-12, atol=1e-15)
    assert np.all((got.p_home >= 0) & (got.p_home <= 1))


def test_hour_of_week_is_local_and_monday_based() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    monday_midnight = datetime(2026, 11, 23, 0, 30, tzinfo=berlin)
    sunday_late = datetime(2026, 3, 29, 23, 10, tzinfo=berlin)  # after spring forward
    got = hour_of_week(np.array([monday_midnight.timestamp(), sunday_late.timestamp()],
                                dtype=np.int64), "Europe/Berlin")
    assert list(got) == [0, 167]


def test_regular_usage_raises_p_home_above_the_prior() -> None:
    tz = "Europe/Berlin"
    ts = usage(tz, 8, 2, [11, 12, 13])  # Wednesdays around noon, for eight weeks
    for day in range(7):
        ts += usage(tz, 8, day, [7, 19, 21])  # mornings and evenings every day
    a = predict(ts, tz=tz, now=NOW, consent=True)
    wednesday_noon = 2 * 24 + 12
    # a once-a-week routine is pooled with four quiet weekdays, yet stands out after 8 weeks
    assert a.p_home[wednesday_noon] > 0.6 > 1.5 * population_prior()[wednesday_noon]
    thursday_noon = 3 * 24 + 12  # never seen: below the prior, far below Wednesday
    assert a.p_home[thursday_noon] < population_prior()[thursday_noon] / 2
    assert a.overall_confidence > 0.7


def test_thin_data_stays_near_the_prior_with_low_confidence() -> None:
    ts = [int(NOW.timestamp()) - 3600]
    a = predict(ts, tz="Asia/Tokyo", now=NOW, consent=True)
    assert a.overall_confidence <= 0.5
    assert np.abs(a.p_home - population_prior()).max() < 0.4


def test_recent_weeks_weigh_more_than_old_weeks() -> None:
    tz = "America/New_York"
    old = usage(tz, 8, 0, [10] * 10)[40:]  # Mondays at 10, weeks 4..7 ago
    recent = usage(tz, 4, 0, [15] * 10)  # Mondays at 15, the last four weeks
    a = predict(old + recent, tz=tz, now=NOW, consent=True,
                config=AvailabilityConfig(spread_hours=0))
    assert a.p_home[15] > a.p_home[10]


def test_without_consent_the_prior_is_used_with_zero_confidence() -> None:
    ts = usage("Europe/Berlin", 8, 2, [12])
    a = predict(ts, tz="Europe/Berlin", now=NOW, consent=False)
    assert_allclose(a.p_home, population_prior())
    assert a.overall_confidence == 0.0 and a.events == 0


def test_at_reads_the_hour_in_the_households_zone() -> None:
    a = predict([], tz="Asia/Tokyo", now=NOW, consent=True)
    # 03:00Z on a Monday is 12:00 JST Monday: weekday office hours in the prior
    assert a.at(datetime(2026, 11, 23, 3, tzinfo=UTC)) == pytest.approx(0.35)


def test_hours_not_yet_lived_say_nothing() -> None:
    tz = "Europe/Berlin"
    now = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)  # Tuesday; data since Monday 00:00
    since = datetime(2026, 11, 16, 0, 0, tzinfo=ZoneInfo(tz))
    ts = usage(tz, 1, 0, [7, 8, 19, 21], now=now) + usage(tz, 1, 1, [7, 8], now=now)
    a = predict(ts, tz=tz, now=now, consent=True, observed_since=since)
    saturday_10 = 5 * 24 + 10
    assert a.p_home[saturday_10] == pytest.approx(population_prior()[saturday_10])
    assert a.confidence[saturday_10] == 0.0
    # Wednesday 10:00 has not happened: only the pooled Monday and Tuesday 10:00 (no usage)
    # speak for it, so it stays above Monday 10:00, which was lived without usage
    monday_10, wednesday_10 = 10, 2 * 24 + 10
    assert a.p_home[wednesday_10] > a.p_home[monday_10]
    assert a.confidence[wednesday_10] < a.confidence[monday_10]


def test_hours_before_data_started_say_nothing() -> None:
    tz = "Asia/Tokyo"
    ts = usage(tz, 1, 5, [9, 12, 18])  # Saturday only
    since = datetime(2026, 11, 21, 0, 0, tzinfo=ZoneInfo(tz))
    a = predict(ts, tz=tz, now=NOW, consent=True, observed_since=since)
    monday_10 = 10
    assert a.p_home[monday_10] == pytest.approx(population_prior()[monday_10])
    assert a.confidence[monday_10] == 0.0


def test_a_silent_day_counts_as_not_observed_unless_configured() -> None:
    tz = "America/New_York"
    zone = ZoneInfo(tz)
    ts = []
    for day in range(7):
        ts += usage(tz, 1, day, [7, 12, 19])
    monday = datetime(2026, 11, 16, 0, 0, tzinfo=zone)
    earlier = datetime(2026, 11, 13, 0, 0, tzinfo=zone)  # three silent days before the data
    raw = AvailabilityConfig(activity_floor=1.0)  # no activity-rate normalisation
    p_from_monday = predict(ts, tz=tz, now=NOW, consent=True, observed_since=monday,
                            config=raw).p_home
    p_from_friday = predict(ts, tz=tz, now=NOW, consent=True, observed_since=earlier,
                            config=raw).p_home
    assert_allclose(p_from_friday, p_from_monday, rtol=1e-12)
    counted = predict(ts, tz=tz, now=NOW, consent=True, observed_since=earlier,
                      config=replace(raw, silent_day_weight=1.0)).p_home
    assert counted[4 * 24 + 12] < p_from_friday[4 * 24 + 12]  # Friday noon: absence counted


def test_pooling_lets_other_weekdays_speak_for_an_unseen_weekday_hour() -> None:
    tz = "Europe/Berlin"
    now = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)  # Friday morning, data since Monday
    since = datetime(2026, 11, 16, 0, 0, tzinfo=ZoneInfo(tz))
    ts = []
    for day in range(4):
        ts += usage(tz, 1, day, [7, 10, 19], now=now)
    a = predict(ts, tz=tz, now=now, consent=True, observed_since=since)
    friday_10 = 4 * 24 + 10
    assert a.p_home[friday_10] > 0.55 > population_prior()[friday_10] + 0.15
    assert 0 < a.confidence[friday_10] < 1


def test_a_household_that_uses_appliances_in_half_its_home_hours_is_still_sure() -> None:
    tz = "Europe/Berlin"
    ts = []
    for day in range(7):
        ts += usage(tz, 8, day, [7, 19, 21])[::2]  # every other week only
    since = NOW - timedelta(weeks=8)
    normalised = predict(ts, tz=tz, now=NOW, consent=True, observed_since=since)
    raw = predict(ts, tz=tz, now=NOW, consent=True, observed_since=since,
                  config=AvailabilityConfig(activity_floor=1.0))
    tuesday_19 = 24 + 19
    assert raw.p_home[tuesday_19] < 0.7
    assert normalised.p_home[tuesday_19] > 0.85
    assert normalised.p_home[24 + 12] < 0.2  # Tuesday noon: never used


def test_invalid_strengths_are_refused() -> None:
    with pytest.raises(ValueError):
        AvailabilityConfig(pool_strength=0.0)
    with pytest.raises(ValueError):
        AvailabilityConfig(activity_quantile=1.5)
