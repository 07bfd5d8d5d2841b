"""Is a batch in time order per device? The engine sorts it when not (one pass, no copies)."""

from __future__ import annotations

import numpy as np
from numba import njit

from rules.kernels.prefetch import prefetch

AHEAD = 64  # readings: how far ahead a device's slot is asked for


@njit(cache=True)
def device_time_ordered(ts, device, slot_of):  # type: ignore[no-untyped-def]
    """True when every slot's readings in the batch have non-decreasing timestamps
    (ts int64[n] ms, device int32[n] keys, slot_of int32[keys]; unassigned devices share
    slot 0).

    Works a run (consecutive readings of one device) at a time: within a run each reading is
    compared with the one before it; a run's first reading looks up the time its slot was last
    seen in an earlier run of this batch, in a hash table of the batch's slots sized to its
    runs: small enough to stay in cache, where one entry per slot in a device-sized array
    would miss it once per run.
    """
    n = ts.shape[0]
    n_keys = slot_of.shape[0]
    runs = 1
    for i in range(1, n):
        if device[i] != device[i - 1]:
            runs += 1
    bits = 4
    while (1 << bits) < 2 * runs:
        bits += 1
    mask = (1 << bits) - 1
    keys = np.full(1 << bits, -1, np.int64)  # slot in each entry, -1: empty
    last = np.empty(1 << bits, np.int64)     # that slot's last time so far
    h_run = -1  # entry of the current run's slot, -1 before the first
    d_run = 0
    t_prev = 0
    for i in range(n):
        d = device[i]
        t = ts[i]
        if h_run >= 0 and d == d_run:
            if t < t_prev:
                return False
            t_prev = t
            continue
        j = i + AHEAD
        if j < n and 0 <= device[j] < n_keys:
            prefetch(slot_of, device[j])
        if h_run >= 0:
            last[h_run] = t_prev  # close the previous run
        s = slot_of[d] if 0 <= d < n_keys else 0
        h = ((s * 2654435769) & 0xFFFFFFFF) >> (32 - bits)  # Fibonacci hashing
        while keys[h] != -1 and keys[h] != s:
            h = (h + 1) & mask
        if keys[h] == s:
            if t < last[h]:
                return False
        else:
            keys[h] = s
        h_run = h
        d_run = d
        t_prev = t
    return True
