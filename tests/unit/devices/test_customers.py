"""Customer, household and consent values validate themselves and answer simple questions."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from devices.customers import ConsentChange, Consents, Customer, Household, new_id


def customer(**changes: object) -> Customer:
    base = Customer("cus-1", "Ada Example", "ada@example.org", language="de",
                    time_zone="Europe/Berlin", lat=52.5, lon=13.4)
    return base.replace(**changes) if changes else base


@pytest.mark.parametrize(("field", "value", "message"), [
    ("email", "not-an-address", "email"),
    ("language", "fr", "language"),
    ("time_zone", "Mars/Olympus", "time_zone"),
    ("lat", 91.0, "lat"),
    ("preferred_channel", "phone", "phone number"),
    ("name", "  ", "name"),
])
def test_an_invalid_customer_field_is_refused_with_its_name(field: str, value: object,
                                                            message: str) -> None:
    with pytest.raises(ValueError, match=message):
        customer(**{field: value})


def test_coordinates_come_in_pairs() -> None:
    with pytest.raises(ValueError, match="together"):
        Customer("cus-1", "Ada", "ada@example.org", lat=1.0)


def test_the_customer_id_cannot_be_changed_by_replace() -> None:
    with pytest.raises(ValueError, match="customer_id"):
        customer(customer_id="cus-2")


def test_quiet_hours_over_midnight_are_read_in_the_customers_zone() -> None:
    c = customer(quiet_start=time(21, 0), quiet_end=time(8, 0))
    assert c.in_quiet_hours(datetime(2026, 1, 10, 21, 30, tzinfo=UTC))  # 22:30 in Berlin
    assert c.in_quiet_hours(datetime(2026, 1, 10, 6, 0, tzinfo=UTC))  # 07:00 in Berlin
    assert not c.in_quiet_hours(datetime(2026, 1, 10, 7, 0, tzinfo=UTC))  # 08:00 in Berlin


def test_quiet_hours_within_a_day() -> None:
    c = customer(quiet_start=time(12, 0), quiet_end=time(14, 0), time_zone="UTC")
    assert c.in_quiet_hours(datetime(2026, 1, 10, 13, 0, tzinfo=UTC))
    assert not c.in_quiet_hours(datetime(2026, 1, 10, 15, 0, tzinfo=UTC))


def test_the_newest_consent_change_of_each_kind_is_in_force() -> None:
    state = Consents.from_history([
        ConsentChange("proactive_email", True, "signup"),
        ConsentChange("usage_for_availability", True, "signup"),
        ConsentChange("proactive_email", False, "unsubscribe-link"),
    ])
    assert not state.proactive_email and state.usage_for_availability
    assert len(state.history) == 3


def test_no_recorded_consent_means_no() -> None:
    assert Consents.from_history([]) == Consents(False, False, ())


def test_a_consent_needs_a_known_kind_and_a_source() -> None:
    with pytest.raises(ValueError, match="kind"):
        ConsentChange("marketing", True, "web")
    with pytest.raises(ValueError, match="source"):
        ConsentChange("proactive_email", True, "")


def test_households_and_ids_use_the_safe_id_alphabet() -> None:
    assert new_id("hh").startswith("hh-") and len(new_id("hh")) == 19
    with pytest.raises(ValueError, match="household_id"):
        Household("hh 1", "cus-1")
