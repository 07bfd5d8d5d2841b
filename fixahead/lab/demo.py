"""A demo world around a simulated fleet: customers, households, consents and technicians.

The simulator is an outside fleet that knows only devices; a real deployment would have the
customers and technicians in its CRM. For the demo and the evaluation we make them up,
deterministically for a seed, and register them through the same store functions the API uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import time

import psycopg

from devices.customers import ConsentChange, Customer, Household
from devices.customerstore import assign_device, create_customer, create_household, record_consent
from dispatch.booking import Technician
from dispatch.booking_store import add_technician

FIRST = ["Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hannes", "Ida", "Jonas",
         "Karla", "Lukas", "Mia", "Noah", "Olga", "Paul", "Rosa", "Samuel", "Tilda", "Utz"]
LAST = ["Becker", "Fischer", "Hoffmann", "Klein", "Meyer", "Neumann", "Richter", "Schmidt",
        "Schulz", "Wagner", "Weber", "Wolf", "Zimmermann", "Lange", "Koch", "Braun"]
SKILLS = ("appliance", "electrical", "plumbing", "refrigeration", "heating")
# the demo region: around Munich, technicians' bases spread over it
CENTER = (48.137, 11.575)
ZONE = "Europe/Berlin"


@dataclass(frozen=True)
class WorldSpec:
    """How the made-up world looks."""

    email_domain: str = "customers.fixahead.example"
    consent_share: float = 0.9  # share of customers who allow proactive email
    german_share: float = 0.5
    technicians: int = 12


def make_customers(keys: list[str], seed: int, spec: WorldSpec = WorldSpec()
                   ) -> list[tuple[Customer, Household, bool]]:
    """(customer, household, consents) per household key; the same seed, the same world."""
    rng = random.Random(seed)
    out = []
    for key in keys:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        customer = Customer(
            customer_id=f"cus-{key}", name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}.{key}@{spec.email_domain}",
            language="de" if rng.random() < spec.german_share else "en", time_zone=ZONE,
            city="München", country="DE",
            lat=round(CENTER[0] + rng.uniform(-0.15, 0.15), 5),
            lon=round(CENTER[1] + rng.uniform(-0.25, 0.25), 5),
            quiet_start=time(21, 0), quiet_end=time(7, 30))
        out.append((customer, Household(f"hh-{key}", customer.customer_id),
                    rng.random() < spec.consent_share))
    return out


def make_technicians(seed: int, spec: WorldSpec = WorldSpec()) -> list[Technician]:
    """Technicians with two or three skills each, every skill covered, early and late shifts."""
    rng = random.Random(seed + 1)
    techs = []
    for i in range(spec.technicians):
        skills = {SKILLS[i % len(SKILLS)], *rng.sample(SKILLS, 2)}
        late = i % 3 == 2
        techs.append(Technician(
            0, f"{rng.choice(FIRST)} {rng.choice(LAST)} (T{i + 1:02d})", frozenset(skills),
            round(CENTER[0] + rng.uniform(-0.1, 0.1), 5),
            round(CENTER[1] + rng.uniform(-0.15, 0.15), 5), territory="munich", tz=ZONE,
            work_start=time(11, 0) if late else time(8, 0),
            work_end=time(20, 0) if late else time(17, 0),
            work_days=frozenset({1, 2, 3, 4, 5}) if late else frozenset({0, 1, 2, 3, 4})))
    return techs


def household_key(tag: str, household_id: str) -> str:
    """The registry key of a simulated household, unique across runs with other tags."""
    return f"{tag}-{household_id.removeprefix('hh-')}"


def provision_world(conn: psycopg.Connection, devices_by_household: dict[str, list[str]],
                    seed: int, spec: WorldSpec = WorldSpec()) -> dict[str, int]:
    """Create customers, households (keyed as given), consents and technicians; idempotent."""
    created = {"customers": 0, "technicians": 0}
    keys = sorted(devices_by_household)
    for customer, household, consent in make_customers(keys, seed, spec):
        exists = conn.execute("SELECT 1 FROM customers WHERE customer_id = %s",
                              (customer.customer_id,)).fetchone()
        if not exists:
            create_customer(conn, customer)
            create_household(conn, household)
            for kind in ("proactive_email", "usage_for_availability"):
                record_consent(conn, customer.customer_id,
                               ConsentChange(kind, consent, "demo-signup"))
            created["customers"] += 1
        for device_id in devices_by_household[household.household_id.removeprefix("hh-")]:
            assign_device(conn, device_id, household.household_id)
    have = conn.execute("SELECT count(*) FROM technicians").fetchone()
    if not have or have[0] == 0:
        for t in make_technicians(seed, spec):
            add_technician(conn, t, email=f"t{t.name[-3:-1]}@service.fixahead.example")
            created["technicians"] += 1
    return created
