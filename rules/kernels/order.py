"""Is a batch in time order per device? The engine sorts it when not (one pass, no copies)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def device_time_ordered(ts, device, slot_of, last, batch):  # type: ignore[no-untyped-def]
    """True when every slot's readings in the batch have non-decreasing timestamps.

    Works a run (consecutive readings of one device) at a time: within a run each reading is
    compared with the one before it, and only a run's first reading looks at `last`, int64
    [slots, 2] of (batch stamp, time of the slot's last reading in that batch). `batch` is
    this call's stamp, different from every earlier call's, so `last` never needs resetting.
    Unassigned devices share slot 0.
    """
    n_keys = slot_of.shape[0]
    s_run = -1  # slot of the current run, -1 before the first
    d_run = 0
    t_prev = 0
    for i in range(ts.shape[0]):
        d = device[i]
        t = ts[i]
        if s_run >= 0 and d == d_run:
            if t < t_prev:
                return False
            t_prev = t
            continue
        if s_run >= 0:
            last[s_run, 1] = t_prev  # close the previous run
        s = slot_of[d] if 0 <= d < n_keys else 0
        if last[s, 0] == batch:
            if t < last[s, 1]:
                return False
        else:
            last[s, 0] = batch
        s_run = s
        d_run = d
        t_prev = t
    return True
