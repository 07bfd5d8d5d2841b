"""Households: schedules drive presence; the same seed gives the same lives."""

from __future__ import annotations

import numpy as np

from simulator.households import Household, Person, presence_minutes, slot_minutes
from simulator.timebase import DAY_MS, SLOTS_PER_DAY, rng_for
from tests.support.simulation import MONDAY

DAY0 = MONDAY // DAY_MS


def office_worker(remote_p: float = 0.0) -> Person:
    return Person("office", leave_min=480, return_min=1050, wake_min=400, sleep_min=1380,
                  remote_p=remote_p, shift_phase=0)


def test_office_worker_is_out_on_weekday_mornings_and_home_at_night() -> None:
    hh = Household("hh-1", 1, (office_worker(),))
    home = presence_minutes(hh, DAY0, 5, rng_for(1, 1))
    assert not home[:, 11 * 60].any()  # 11:00 Monday to Friday: at the office
    assert home[:, 3 * 60].all()  # 03:00: asleep at home


def test_nobody_is_home_during_a_vacation() -> None:
    hh = Household("hh-2", 2, (office_worker(), Person("home", 0, 0, 420, 1320, 0, 0)),
                   vacation=(DAY0 + 2, DAY0 + 4))
    home = presence_minutes(hh, DAY0, 6, rng_for(1, 2))
    assert not home[2:4].any()
    assert home[0].any() and home[5].any()


def test_weekends_keep_an_office_worker_home_more_than_weekdays() -> None:
    hh = Household("hh-3", 3, (office_worker(),))
    home = presence_minutes(hh, DAY0, 28, rng_for(3, 3))
    weekday = home[[d for d in range(28) if d % 7 < 5], 480:1050].mean()
    weekend = home[[d for d in range(28) if d % 7 >= 5], 480:1050].mean()
    assert weekend > weekday + 0.3


def test_presence_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    hh = Household("hh-4", 4, (office_worker(0.4), Person("home", 0, 0, 420, 1320, 0, 0)))
    a = presence_minutes(hh, DAY0, 7, rng_for(11, 4))
    b = presence_minutes(hh, DAY0, 7, rng_for(11, 4))
    c = presence_minutes(hh, DAY0, 7, rng_for(12, 4))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_slot_minutes_count_minutes_at_home_per_quarter_hour() -> None:
    home = np.zeros((1, 1440), dtype=bool)
    home[0, 0:20] = True
    slots = slot_minutes(home)
    assert slots.shape == (SLOTS_PER_DAY,)
    assert slots[0] == 15 and slots[1] == 5 and slots[2:].sum() == 0
