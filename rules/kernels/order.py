"""Is a batch in time order per device? The engine sorts it when not (one pass, no copies)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def device_time_ordered(ts, device, slot_of, last):  # type: ignore[no-untyped-def]
    """True when every device's readings in the batch have non-decreasing timestamps.

    `last` is scratch of one int64 per slot, all at the int64 minimum on entry; the entries
    this call touched are put back before it returns. Unassigned devices share slot 0.
    """
    n_keys = slot_of.shape[0]
    low = np.iinfo(np.int64).min
    ordered = True
    stop = ts.shape[0]
    for i in range(ts.shape[0]):
        d = device[i]
        s = slot_of[d] if 0 <= d < n_keys else 0
        if ts[i] < last[s]:
            ordered = False
            stop = i
            break
        last[s] = ts[i]
    for i in range(stop):
        d = device[i]
        last[slot_of[d] if 0 <= d < n_keys else 0] = low
    return ordered
