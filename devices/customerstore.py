"""PostgreSQL adapter for customers, households and consents."""

from __future__ import annotations

from dataclasses import asdict, fields

import psycopg
from psycopg.rows import dict_row

from devices.customers import ConsentChange, Consents, Customer, Household

_COLUMNS = [f.name for f in fields(Customer)]


class NotFound(LookupError):
    """A customer, household or device that does not exist."""


class Conflict(ValueError):
    """A write that clashes with existing data (e.g. an email used by another customer)."""


def _customer(row: dict) -> Customer:
    return Customer(**{k: row[k] for k in _COLUMNS})


def create_customer(conn: psycopg.Connection, customer: Customer) -> Customer:
    """Insert a new customer; Conflict when the id or email is taken."""
    values = asdict(customer)
    cols = ", ".join(_COLUMNS)
    marks = ", ".join(f"%({c})s" for c in _COLUMNS)
    try:
        with conn.transaction():
            conn.execute(f"INSERT INTO customers ({cols}) VALUES ({marks})", values)
    except psycopg.errors.UniqueViolation:
        raise Conflict("a customer with this id or email exists already") from None
    return customer


def get_customer(conn: psycopg.Connection, customer_id: str) -> Customer:
    """The customer with this id; NotFound when there is none."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT * FROM customers WHERE customer_id = %s",
                          (customer_id,)).fetchone()
    if row is None:
        raise NotFound(f"customer {customer_id!r} does not exist")
    return _customer(row)


def list_customers(conn: psycopg.Connection, *, limit: int = 100,
                   offset: int = 0) -> list[Customer]:
    """Customers in id order, a page at a time."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM customers ORDER BY customer_id LIMIT %s OFFSET %s",
                           (limit, offset)).fetchall()
    return [_customer(r) for r in rows]


def update_customer(conn: psycopg.Connection, customer: Customer) -> Customer:
    """Overwrite the stored customer with `customer`; NotFound / Conflict as above."""
    sets = ", ".join(f"{c} = %({c})s" for c in _COLUMNS if c != "customer_id")
    try:
        with conn.transaction():
            cur = conn.execute(
                f"UPDATE customers SET {sets}, updated_at = now() "
                "WHERE customer_id = %(customer_id)s", asdict(customer))
    except psycopg.errors.UniqueViolation:
        raise Conflict("another customer has this email") from None
    if cur.rowcount == 0:
        raise NotFound(f"customer {customer.customer_id!r} does not exist")
    return customer


def record_consent(conn: psycopg.Connection, customer_id: str,
                   change: ConsentChange) -> Consents:
    """Append a consent change (in force at once) and return the consents now in force."""
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO consents (customer_id, kind, granted, source) VALUES (%s, %s, %s, %s)",
                (customer_id, change.kind, change.granted, change.source))
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound(f"customer {customer_id!r} does not exist") from None
    return consents(conn, customer_id)


def consents(conn: psycopg.Connection, customer_id: str) -> Consents:
    """The consents in force for a customer, with their history."""
    history = [
        ConsentChange(kind, granted, source, at)
        for kind, granted, source, at in conn.execute(
            """SELECT kind, granted, source, recorded_at FROM consents
               WHERE customer_id = %s ORDER BY id""", (customer_id,))
    ]
    return Consents.from_history(history)


def create_household(conn: psycopg.Connection, household: Household) -> Household:
    """Insert a household of an existing customer."""
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO households (household_id, customer_id, label) VALUES (%s, %s, %s)",
                (household.household_id, household.customer_id, household.label))
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound(f"customer {household.customer_id!r} does not exist") from None
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"household {household.household_id!r} exists already") from None
    return household


def get_household(conn: psycopg.Connection, household_id: str) -> Household:
    """The household with this id; NotFound when there is none."""
    row = conn.execute("SELECT household_id, customer_id, label FROM households "
                       "WHERE household_id = %s", (household_id,)).fetchone()
    if row is None:
        raise NotFound(f"household {household_id!r} does not exist")
    return Household(*row)


def households_of(conn: psycopg.Connection, customer_id: str) -> list[Household]:
    """The households of a customer."""
    rows = conn.execute("SELECT household_id, customer_id, label FROM households "
                        "WHERE customer_id = %s ORDER BY household_id", (customer_id,))
    return [Household(*r) for r in rows]


def assign_device(conn: psycopg.Connection, device_id: str, household_id: str | None) -> None:
    """Put a device in a household (None: take it out)."""
    try:
        with conn.transaction():
            cur = conn.execute("UPDATE devices SET household_id = %s WHERE device_id = %s",
                               (household_id, device_id))
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound(f"household {household_id!r} does not exist") from None
    if cur.rowcount == 0:
        raise NotFound(f"device {device_id!r} does not exist")


def household_devices(conn: psycopg.Connection, household_id: str) -> list[str]:
    """Device ids in a household."""
    return [d for (d,) in conn.execute(
        "SELECT device_id FROM devices WHERE household_id = %s ORDER BY device_id",
        (household_id,))]
