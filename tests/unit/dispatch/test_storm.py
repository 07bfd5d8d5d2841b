"""When openings of one code are a storm: by count or by share of the model's fleet."""

from __future__ import annotations

from dispatch.storm import StormConfig, capacity, storm_start, threshold

MIN = 60_000


def test_the_threshold_is_a_share_of_the_fleet_within_bounds():
    cfg = StormConfig()
    assert threshold(40, cfg) == 5  # 5 % of 40 is 2: never fewer than min_count
    assert threshold(200, cfg) == 10
    assert threshold(100_000, cfg) == 50  # the count caps it for a large fleet


def test_openings_spread_over_more_than_the_window_are_no_storm():
    cfg = StormConfig(min_count=3)
    assert storm_start([0, 11 * MIN, 22 * MIN, 33 * MIN], 10, cfg) is None
    assert storm_start([0, 20 * MIN, 21 * MIN, 22 * MIN], 10, cfg) == 20 * MIN


def test_the_cap_leaves_what_the_hour_has_left():
    assert capacity(990, StormConfig(cap_per_hour=1000)) == 10
    assert capacity(1200, StormConfig(cap_per_hour=1000)) == 0
