"""Households and which devices they own (scheduler reads; admin changes)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response

from devices import customerstore as store
from devices.audit import audit
from devices.customers import Household, new_id
from fixahead.web.deps import AdminDep, ConnDep, SchedulerDep
from fixahead.web.schemas import HouseholdIn, HouseholdOut

router = APIRouter(prefix="/households", tags=["households"])


def _out(conn: ConnDep, household: Household) -> HouseholdOut:
    return HouseholdOut(**asdict(household),
                        devices=store.household_devices(conn, household.household_id))


@router.post("", status_code=201)
def create_household(body: HouseholdIn, conn: ConnDep, who: AdminDep) -> HouseholdOut:
    """Add a household to a customer."""
    with conn.transaction():
        household = store.create_household(conn, Household(
            body.household_id or new_id("hh"), body.customer_id, body.label))
        audit(conn, actor=who.actor, action="household.create", subject_type="household",
              subject_id=household.household_id)
    return _out(conn, household)


@router.get("/{household_id}")
def get_household(household_id: str, conn: ConnDep, _: SchedulerDep) -> HouseholdOut:
    """A household with its devices."""
    return _out(conn, store.get_household(conn, household_id))


@router.put("/{household_id}/devices/{device_id}", status_code=204)
def add_device(household_id: str, device_id: str, conn: ConnDep, who: AdminDep) -> Response:
    """Put a device into the household."""
    store.get_household(conn, household_id)
    with conn.transaction():
        store.assign_device(conn, device_id, household_id)
        audit(conn, actor=who.actor, action="device.assign", subject_type="device",
              subject_id=device_id, detail={"household_id": household_id})
    return Response(status_code=204)


@router.delete("/{household_id}/devices/{device_id}", status_code=204)
def remove_device(household_id: str, device_id: str, conn: ConnDep, who: AdminDep) -> Response:
    """Take a device out of the household."""
    if device_id not in store.household_devices(conn, household_id):
        raise store.NotFound(f"device {device_id!r} is not in household {household_id!r}")
    with conn.transaction():
        store.assign_device(conn, device_id, None)
        audit(conn, actor=who.actor, action="device.unassign", subject_type="device",
              subject_id=device_id, detail={"household_id": household_id})
    return Response(status_code=204)
