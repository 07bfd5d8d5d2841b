"""Away detection from hand-made usage histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from dispatch.away import AwayConfig, detect, likely_end

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
H = 3600
DAY = 86400


def routine(days: int, *, end: datetime = NOW, skip: set[int] = frozenset(),
            hours: tuple[float, ...] = (7, 8, 12.5, 18, 19.5, 21)) -> np.ndarray:
    """Usage at fixed hours on each of the `days` days before `end`, minus days in `skip`
    (counted back from `end`: 0 is the last day)."""
    first = int(end.timestamp()) // DAY * DAY - days * DAY
    rng = np.random.default_rng(7)
    out = [first + d * DAY + int(h * H + rng.integers(-900, 900))
           for d in range(days) if days - 1 - d not in skip for h in hours]
    return np.array([t for t in out if t < end.timestamp()], dtype=np.int64)


def test_a_household_with_its_usual_night_is_not_away() -> None:
    verdict = detect(routine(42), now=NOW)
    assert not verdict.away and verdict.visit_after is None


def test_five_silent_days_after_a_steady_routine_are_a_vacation() -> None:
    times = routine(42, skip={0, 1, 2, 3, 4})
    verdict = detect(times, now=NOW)
    assert verdict.away
    assert verdict.since is not None and NOW - verdict.since > timedelta(days=4)
    assert verdict.likely_return is not None and verdict.likely_return > NOW
    # 3-14 day absences that already lasted five days: the upper quartile is 12 days in all
    assert timedelta(days=6) < verdict.likely_return - NOW < timedelta(days=8)
    median = detect(times, now=NOW, config=AwayConfig(return_quantile=0.5))
    assert median.likely_return is not None and median.likely_return < verdict.likely_return
    assert "likely back" in verdict.reason


def test_a_household_used_to_weekends_out_is_not_away_after_a_day_and_a_half() -> None:
    # every Saturday-Sunday nothing from Saturday morning to Sunday afternoon (about 31 h)
    base = routine(56)
    sat = [(datetime.fromtimestamp(int(t), UTC).weekday(), int(t)) for t in base]
    times = np.array([t for wd, t in sat if wd != 5 and not (wd == 6 and t % DAY < 16 * H)],
                     dtype=np.int64)
    last = int(times[-1])
    now = datetime.fromtimestamp(last + 36 * H, UTC)
    assert not detect(times, now=now).away
    steady = base[base <= last]
    assert detect(steady, now=now).away  # the same silence is unusual for a steady household


def test_too_little_history_gives_no_verdict() -> None:
    verdict = detect(routine(3, end=NOW - timedelta(days=5)), now=NOW)
    assert not verdict.away and "too little" in verdict.reason


def test_past_absences_of_the_household_set_the_likely_return() -> None:
    # two earlier four-day trips, and now four days of silence again: back in about a day
    times = routine(56, skip={0, 1, 2, 3} | {20, 21, 22} | {40, 41, 42})
    verdict = detect(times, now=NOW)
    assert verdict.away and verdict.likely_return is not None
    assert verdict.likely_return - NOW < timedelta(days=2)


def test_an_absence_longer_than_any_known_is_expected_to_end_a_day_later() -> None:
    assert likely_end(30 * DAY, [3 * DAY, 5 * DAY]) == 31 * DAY
    assert likely_end(4 * DAY, [3 * DAY, 5 * DAY, 9 * DAY]) == 5 * DAY
    assert likely_end(4 * DAY, [3 * DAY, 5 * DAY, 9 * DAY], 1.0) == 9 * DAY


def test_the_margin_to_settle_in_is_added_to_the_return() -> None:
    times = routine(42, skip={0, 1, 2, 3, 4})
    a = detect(times, now=NOW, config=AwayConfig(return_margin=timedelta(0)))
    b = detect(times, now=NOW, config=AwayConfig(return_margin=timedelta(hours=12)))
    assert a.likely_return is not None and b.likely_return is not None
    assert b.likely_return - a.likely_return == timedelta(hours=12)
