"""The first-free-slot baseline that availability-aware booking is measured against: the
earliest feasible slot of any qualified technician, whoever is at home then. It lives with the
benches and the evaluation, not in dispatch, which never books this way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from dispatch.booking import (
    Busy,
    Offer,
    SearchConfig,
    Technician,
    VisitRequest,
    candidates,
    feasible_slots,
)

DEFAULT = SearchConfig()


def first_free_slot(
    req: VisitRequest,
    technicians: Sequence[Technician],
    busy: Mapping[int, Sequence[Busy]],
    *,
    now: datetime,
    config: SearchConfig = DEFAULT,
) -> Offer | None:
    """Baseline: the earliest feasible slot of any qualified technician, ignoring P(home)."""
    lead = 0 if req.urgent else config.lead_minutes * 60
    start_s = int(now.timestamp()) + lead
    end_s = int(now.timestamp()) + config.days * 86400
    best: tuple[int, int, int] | None = None
    for t in candidates(req, technicians, config):
        limit = end_s if best is None else min(end_s, best[0] + 1)
        slots = feasible_slots(t, req, busy.get(t.technician_id, ()), start_s=start_s,
                               end_s=limit + req.minutes * 60, config=config)
        if slots and (best is None or slots[0][0] < best[0]):
            best = (slots[0][0], t.technician_id, slots[0][1])
    if best is None:
        return None
    s, tid, added = best
    return Offer(tid, datetime.fromtimestamp(s, UTC),
                 datetime.fromtimestamp(s + req.minutes * 60, UTC), 0.0, float("nan"), added / 60.0)
