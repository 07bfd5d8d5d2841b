"""Customers, their consents, export and erasure (scheduler reads; admin changes)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from devices import customerstore as store
from devices.audit import audit
from devices.customers import ConsentChange, Customer, new_id
from devices.privacy import erase_customer, export_customer
from fixahead.web.deps import AdminDep, ConnDep, SchedulerDep
from fixahead.web.schemas import (
    ConsentIn,
    ConsentsOut,
    CustomerFields,
    CustomerIn,
    CustomerOut,
    HouseholdOut,
)

router = APIRouter(prefix="/customers", tags=["customers"])


def _out(customer: Customer) -> CustomerOut:
    return CustomerOut(**asdict(customer))


@router.get("")
def list_customers(conn: ConnDep, _: SchedulerDep,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0)] = 0) -> list[CustomerOut]:
    """Customers in id order, a page at a time."""
    return [_out(c) for c in store.list_customers(conn, limit=limit, offset=offset)]


@router.post("", status_code=201)
def create_customer(body: CustomerIn, conn: ConnDep, who: AdminDep) -> CustomerOut:
    """Add a customer."""
    values = body.model_dump(exclude_none=True)
    values["customer_id"] = values.get("customer_id") or new_id("cus")
    with conn.transaction():
        customer = store.create_customer(conn, Customer(**values))
        audit(conn, actor=who.actor, action="customer.create", subject_type="customer",
              subject_id=customer.customer_id)
    return _out(customer)


@router.get("/{customer_id}")
def get_customer(customer_id: str, conn: ConnDep, _: SchedulerDep) -> CustomerOut:
    """One customer."""
    return _out(store.get_customer(conn, customer_id))


@router.patch("/{customer_id}")
def update_customer(customer_id: str, body: CustomerFields, conn: ConnDep,
                    who: AdminDep) -> CustomerOut:
    """Change some fields of a customer."""
    changes = body.model_dump(exclude_unset=True)
    customer = store.get_customer(conn, customer_id).replace(**changes)
    with conn.transaction():
        store.update_customer(conn, customer)
        audit(conn, actor=who.actor, action="customer.update", subject_type="customer",
              subject_id=customer_id, detail={"fields": sorted(changes)})
    return _out(customer)


@router.get("/{customer_id}/consents")
def get_consents(customer_id: str, conn: ConnDep, _: SchedulerDep) -> ConsentsOut:
    """The consents in force and their history."""
    store.get_customer(conn, customer_id)
    return ConsentsOut.model_validate(asdict(store.consents(conn, customer_id)))


@router.post("/{customer_id}/consents", status_code=201)
def record_consent(customer_id: str, body: ConsentIn, conn: ConnDep,
                   _: AdminDep) -> ConsentsOut:
    """Record a consent decision; it is in force at once."""
    change = ConsentChange(body.kind, body.granted, body.source)
    return ConsentsOut.model_validate(asdict(store.record_consent(conn, customer_id, change)))


@router.get("/{customer_id}/households")
def list_households(customer_id: str, conn: ConnDep, _: SchedulerDep) -> list[HouseholdOut]:
    """A customer's households with their devices."""
    store.get_customer(conn, customer_id)
    return [HouseholdOut(**asdict(h), devices=store.household_devices(conn, h.household_id))
            for h in store.households_of(conn, customer_id)]


@router.get("/{customer_id}/export")
def export(customer_id: str, conn: ConnDep, who: AdminDep) -> dict[str, Any]:
    """Everything held about the customer, as one JSON document (audited)."""
    return export_customer(conn, customer_id, actor=who.actor)


@router.delete("/{customer_id}")
def erase(customer_id: str, conn: ConnDep, who: AdminDep) -> dict[str, Any]:
    """Erase the customer: personal data deleted, devices detached and revoked (audited)."""
    return {"erased": customer_id, **erase_customer(conn, customer_id, actor=who.actor)}
