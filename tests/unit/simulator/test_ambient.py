"""A smart home's ambient sensors: activations only while someone is home, bursts while awake."""

from __future__ import annotations

import numpy as np

from simulator.households import Household, Person, presence_minutes
from simulator.timebase import DAY_MS, rng_for
from simulator.usage import ambient_times
from tests.support.simulation import MONDAY

DAY0 = MONDAY // DAY_MS


def _home_and_times(episodes: float, days: int = 7) -> tuple[np.ndarray, list[np.ndarray]]:
    worker = Person("office", leave_min=480, return_min=1050, wake_min=400, sleep_min=1380,
                    remote_p=0.0, shift_phase=0)
    hh = Household("hh-a", 1, (worker,))
    home = presence_minutes(hh, DAY0, days, rng_for(3, 1))
    rng = rng_for(3, 2)
    return home, [ambient_times(hh, DAY0 + d, home[d], rng, episodes, 3.0) for d in range(days)]


def test_activations_fall_only_on_minutes_someone_is_home_and_within_their_day() -> None:
    home, times = _home_and_times(2.0)
    for d, t in enumerate(times):
        assert t.size and np.all(np.diff(t) >= 0)
        minute = (t - (DAY0 + d) * 86400) // 60
        assert minute.min() >= 0 and minute.max() < 1440
        assert home[d, minute].all()
    weekdays = np.concatenate([(t - (DAY0 + d) * 86400) // 60 for d, t in enumerate(times[:5])])
    assert not ((weekdays >= 540) & (weekdays < 1000)).any()  # at the office


def test_more_episodes_an_hour_give_more_activations_and_nights_stay_quiet() -> None:
    _, few = _home_and_times(0.5)
    _, many = _home_and_times(4.0)
    assert sum(t.size for t in many) > 3 * sum(t.size for t in few)
    night = np.concatenate([(t % 86400) // 60 for t in many])
    # 01:00-05:00 asleep: only the odd night trip (at most three activations each)
    assert ((night >= 60) & (night < 300)).sum() <= 3 * 7
