"""The fleet definition: households and the appliances (devices with model ids) they own."""

from __future__ import annotations

from dataclasses import dataclass

from devices.catalog import Model
from simulator.households import Household, make_household
from simulator.timebase import Window, rng_for

# share of households owning each kind of appliance (kinds the catalog lacks are skipped)
OWNERSHIP = {
    "fridge": 1.0,
    "washer": 0.85,
    "dishwasher": 0.6,
    "dryer": 0.35,
    "waterheater": 0.45,
    "heatpump": 0.25,
}
BINARY_SHARE = 0.85
STREAM_HOUSEHOLD = 1


def kind_key(kind: str) -> str:
    """A model kind without case, spaces, dashes or underscores ("heat_pump" -> "heatpump")."""
    return "".join(ch for ch in kind.lower() if ch.isalnum())


@dataclass(frozen=True)
class Device:
    """One simulated appliance."""

    device_id: str
    model_id: str
    kind: str
    household: str
    index: int
    binary: bool


@dataclass(frozen=True)
class Fleet:
    """Households and devices of a run."""

    seed: int
    tag: str
    households: tuple[Household, ...]
    devices: tuple[Device, ...]

    def devices_of(self, household_id: str) -> list[Device]:
        """The devices in one household."""
        return [d for d in self.devices if d.household == household_id]


def models_by_kind(catalog: dict[str, Model]) -> dict[str, Model]:
    """The first model (by id) of each kind in the catalog."""
    out: dict[str, Model] = {}
    for model_id in sorted(catalog):
        out.setdefault(kind_key(catalog[model_id].kind), catalog[model_id])
    return out


def build_fleet(n_households: int, window: Window, seed: int, catalog: dict[str, Model],
                tag: str | None = None) -> Fleet:
    """Draw `n_households` households and their appliances; the same seed gives the same fleet."""
    tag = tag or f"s{seed}"
    models = models_by_kind(catalog)
    households: list[Household] = []
    devices: list[Device] = []
    for i in range(n_households):
        rng = rng_for(seed, STREAM_HOUSEHOLD, i)
        hh = make_household(rng, i, window.first_day, window.n_days)
        households.append(hh)
        owned = set()
        for kind, share in OWNERSHIP.items():
            if kind == "dryer" and "washer" not in owned:
                continue
            if kind in models and rng.random() < share:
                owned.add(kind)
                model = models[kind]
                devices.append(Device(
                    device_id=f"{tag}-{i:05d}-{kind[:6]}",
                    model_id=model.id,
                    kind=kind,
                    household=hh.id,
                    index=len(devices),
                    binary=bool(rng.random() < BINARY_SHARE),
                ))
    return Fleet(seed, tag, tuple(households), tuple(devices))
