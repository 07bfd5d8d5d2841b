"""Checking a move: refusals (past, skill, days, hours, overlap, travel) and warnings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dispatch.booking import Technician
from dispatch.movecheck import Placed, Wanted, check_move, in_quiet_hours

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TUE_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
BERLIN = (52.52, 13.40)
TECH = Technician(1, "Jonas Weber", frozenset({"electrical"}), *BERLIN, tz="Europe/Berlin",
                  days_off=frozenset({date(2026, 11, 26)}))
JOB = Wanted("electrical", 60, *BERLIN, customer_tz="Europe/Berlin")


def check(start: datetime, calendar: tuple[Placed, ...] = (), *, job: Wanted = JOB,
          p_home: float | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    v = check_move(TECH, job, start, calendar, now=NOW, tz="Europe/Berlin", speed_kmh=40.0,
                   p_home=p_home)
    return v.errors, v.warnings


def test_a_free_slot_in_working_hours_passes_without_a_word() -> None:
    assert check(TUE_10, p_home=0.9) == ((), ())


def test_the_past_is_refused_with_the_time_it_is_now_in_the_schedulers_zone() -> None:
    errors, _ = check(datetime(2020, 1, 1, 9, tzinfo=UTC))
    assert len(errors) >= 1 and "in the past (now 10:00 on Mon 23 Nov)" in errors[0]


def test_a_missing_skill_is_refused() -> None:
    errors, _ = check(TUE_10, job=Wanted("refrigeration", 60, *BERLIN))
    assert errors == ("Jonas Weber does not have the skill 'refrigeration' this job needs",)


def test_a_day_off_a_weekend_and_hours_outside_work_are_refused() -> None:
    assert check(datetime(2026, 11, 26, 9, tzinfo=UTC))[0] == ("Jonas Weber has Thu 26 Nov off",)
    assert check(datetime(2026, 11, 28, 9, tzinfo=UTC))[0] == (
        "Jonas Weber does not work on Saturdays",)
    errors, _ = check(datetime(2026, 11, 24, 15, 30, tzinfo=UTC))  # 16:30-17:30 Berlin
    assert errors == ("Jonas Weber works 08:00-17:00 (Europe/Berlin); this job would run "
                      "16:30-17:30",)


def test_an_overlap_names_the_job_in_the_way() -> None:
    other = Placed(TUE_10 + timedelta(minutes=30), TUE_10 + timedelta(minutes=90), *BERLIN,
                   "job J-7")
    errors, _ = check(TUE_10, (other,))
    assert errors == ("Jonas Weber is already booked then: job J-7 (10:30-11:30) overlaps",)


def test_too_little_time_to_travel_from_the_previous_or_to_the_next_job_is_refused() -> None:
    potsdam = (52.39, 13.06)  # about 27 km: 41 min at 40 km/h
    before = Placed(TUE_10 - timedelta(minutes=60), TUE_10 - timedelta(minutes=20), *potsdam,
                    "job J-1")
    after = Placed(TUE_10 + timedelta(minutes=70), TUE_10 + timedelta(minutes=130), *potsdam,
                   "job J-2")
    v = check_move(TECH, JOB, TUE_10, (before, after), now=NOW, tz="Europe/Berlin",
                   speed_kmh=40.0)
    assert v.travel_before_min == v.travel_after_min and 38 <= (v.travel_before_min or 0) <= 44
    assert [e.split(":")[0] for e in v.errors] == [
        "Jonas Weber cannot get there in time", "Jonas Weber cannot reach the next job in time"]
    far_enough = Placed(TUE_10 - timedelta(minutes=120), TUE_10 - timedelta(minutes=60),
                        *potsdam, "job J-1")
    assert check(TUE_10, (far_enough,))[0] == ()


def test_quiet_hours_and_low_presence_warn_but_do_not_refuse() -> None:
    night_owl = Wanted("electrical", 60, *BERLIN, customer_tz="America/New_York",
                       quiet_start=time(21), quiet_end=time(8))
    errors, warnings = check(TUE_10, job=night_owl, p_home=0.2)  # 04:00 in New York
    assert errors == ()
    assert warnings == ("This is in the customer's quiet hours (21:00-08:00 their time): it "
                        "would start 04:00 in America/New_York",
                        "The customer is probably out then: predicted P(home) 20%")


def test_quiet_hours_that_do_not_wrap_midnight() -> None:
    siesta = Wanted("electrical", 60, *BERLIN, customer_tz="UTC", quiet_start=time(13),
                    quiet_end=time(15))
    assert in_quiet_hours(siesta, TUE_10.replace(hour=12, minute=30),
                          TUE_10.replace(hour=13, minute=30))
    assert not in_quiet_hours(siesta, TUE_10.replace(hour=11), TUE_10.replace(hour=12))
