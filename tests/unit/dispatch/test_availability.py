from __future__ import annotations

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


@pytest.mark.parametrize("spread", [0, 2])
@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Asia/Tokyo"])
@pytest.mark.parametrize("case", ["fixed", "random", "empty", "single", "out_of_order", "dst"])
def test_kernel_matches_the_reference(tz: str, case: str, spread: int) -> None:
    cfg = AvailabilityConfig(spread_hours=spread)
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
    got = predict(np.array(ts, dtype=np.int64), tz=tz, now=now, consent=True, prior=prior,
                  config=cfg)
    want_p, want_c = predict_reference(ts, tz=tz, now=now, prior=list(prior), config=cfg)
    assert_allclose(got.p_home, want_p, rtol=1e-12)
    assert_allclose(got.confidence, want_c, rtol=1e-12)


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
    assert a.p_home[wednesday_noon] > 0.85 > population_prior()[wednesday_noon]
    assert a.p_home[3 * 24 + 12] < population_prior()[3 * 24 + 12]  # Thursday noon: never seen
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
