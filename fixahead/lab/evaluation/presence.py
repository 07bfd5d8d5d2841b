"""Was the household truly home for a visit window? From the simulator's presence (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fixahead.lab.evaluation.types import DAY_MS


@dataclass(frozen=True)
class Presence:
    """Minutes at home per slot of `slot_s` seconds from `start_ms`; vacation epoch days
    [first, last) when the household had one."""

    start_ms: int
    slot_s: int
    minutes_home: Sequence[int]
    vacation_days: tuple[int, int] | None = None

    @property
    def end_ms(self) -> int:
        """The end of the known timeline."""
        return self.start_ms + len(self.minutes_home) * self.slot_s * 1000

    def known(self, start_ms: int, end_ms: int) -> bool:
        """Whether the truth covers the whole window."""
        return self.start_ms <= start_ms and end_ms <= self.end_ms

    def _slots(self, start_ms: int, end_ms: int) -> range:
        step = self.slot_s * 1000
        return range((start_ms - self.start_ms) // step, -(-(end_ms - self.start_ms) // step))

    def home_all(self, start_ms: int, end_ms: int) -> bool:
        """Someone home through the whole window: every slot it touches fully at home."""
        full = self.slot_s // 60
        return all(self.minutes_home[i] >= full for i in self._slots(start_ms, end_ms))

    def home_share(self, start_ms: int, end_ms: int) -> float:
        """Share of the touched slots' minutes at home (a softer figure than `home_all`)."""
        slots = self._slots(start_ms, end_ms)
        return sum(self.minutes_home[i] for i in slots) / (len(slots) * self.slot_s / 60)

    def on_vacation(self, start_ms: int, end_ms: int) -> bool:
        """Whether the window overlaps the household's vacation days."""
        if self.vacation_days is None:
            return False
        first, last = self.vacation_days
        return start_ms < last * DAY_MS and end_ms > first * DAY_MS


def presence_by_household(truth: Mapping[str, Any]) -> dict[str, Presence]:
    """Presence per household id from `read_ground_truth`'s result."""
    vacation = {h["id"]: h.get("vacation_days") for h in truth.get("households", [])}
    out = {}
    for hh, (start_ms, slot_s, minutes) in truth.get("presence", {}).items():
        vac = vacation.get(hh)
        out[hh] = Presence(int(start_ms), int(slot_s), list(minutes),
                           (int(vac[0]), int(vac[1])) if vac else None)
    for hh, vac in vacation.items():  # households without a presence timeline still vacation
        if hh not in out and vac:
            out[hh] = Presence(0, 900, [], (int(vac[0]), int(vac[1])))
    return out
