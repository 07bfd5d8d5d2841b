"""Which alternatives a visit proposal offers next to the best slot. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from dispatch.booking import Offer
from dispatch.wording import part_of_day


def alternatives(best: Offer, offers: Sequence[Offer], tz: str, n: int = 2) -> list[Offer]:
    """Up to `n` of the next-best offers, each on another day or at another time of day than
    the best and than each other, in date order."""
    zone = ZoneInfo(tz)

    def key(o: Offer) -> tuple[object, str]:
        return o.start.astimezone(zone).date(), part_of_day(o.start, tz)

    seen = {key(best)}
    chosen: list[Offer] = []
    for o in offers:
        if o is best or o.start == best.start or key(o) in seen:
            continue
        seen.add(key(o))
        chosen.append(o)
        if len(chosen) == n:
            break
    return sorted(chosen, key=lambda o: o.start)
