"""Numba kernel for availability: exposure-weighted presence per hour of week, pooled."""

from __future__ import annotations

import numpy as np
from numba import njit

HOURS_PER_WEEK = 168


@njit(cache=True)
def presence_kernel(event_idx, how, day, weight, prior, day_type, k_pool, k_prior,  # type: ignore[no-untyped-def]
                    neighbour, spread, silent_weight, act_quantile, act_floor, act_min_exposure):
    """Posterior P(home) and confidence for each hour of the week.

    The observed past is a run of m hour instances (consecutive absolute hours, oldest first):
    how: int64[m] local hour of week of each (0 = Monday 00:00); day: int64[m] its local day
    number (non-decreasing); weight: float64[m] its exposure (fraction of the hour inside the
    observed span, times the recency decay). event_idx: int64[n] index of the hour instance of
    each usage event (outside 0..m-1 marks only its neighbours); an event also marks `spread`
    instances either side. Instances of a whole local day without any event, other than the
    last (current) day, weigh `silent_weight` times as much (a device that was not reporting
    tells nothing).

    Usage share per hour of week is divided by the household's activity rate (the
    `act_quantile` of its pooled per-hour shares over hours with at least `act_min_exposure`,
    floored at `act_floor`, capped at 1) to turn P(usage) into P(home). Hierarchy: the hour of
    week is shrunk with `k_pool` pseudo-observations toward the household's pooled estimate for
    the same hour of day and day type (day_type: int64[7], 0..6; `neighbour` weighs the
    adjacent hours of day), which is shrunk with `k_prior` toward prior: float64[168].
    Returns (p float64[168], confidence float64[168]); confidence = 1 - the prior's share.
    """
    m = how.shape[0]
    active = np.zeros(m, dtype=np.bool_)
    n_days = 0 if m == 0 else day[m - 1] - day[0] + 1
    day_events = np.zeros(n_days)
    for i in range(event_idx.shape[0]):
        j = event_idx[i]
        if 0 <= j < m:
            day_events[day[j] - day[0]] += 1.0
        for d in range(-spread, spread + 1):
            if 0 <= j + d < m:
                active[j + d] = True
    s = np.zeros(HOURS_PER_WEEK)
    n = np.zeros(HOURS_PER_WEEK)
    for j in range(m):
        w = weight[j]
        if day_events[day[j] - day[0]] == 0.0 and day[j] != day[m - 1]:
            w *= silent_weight
        n[how[j]] += w
        if active[j]:
            s[how[j]] += w
    # pooled by (day type, hour of day), with the neighbouring hours of day
    gs0 = np.zeros(7 * 24)
    gn0 = np.zeros(7 * 24)
    for h in range(HOURS_PER_WEEK):
        g = day_type[h // 24] * 24 + h % 24
        gs0[g] += s[h]
        gn0[g] += n[h]
    gs = np.zeros(7 * 24)
    gn = np.zeros(7 * 24)
    for g in range(7 * 24):
        t, hod = g // 24, g % 24
        lo = t * 24 + (hod + 23) % 24
        hi = t * 24 + (hod + 1) % 24
        gs[g] = gs0[g] + neighbour * (gs0[lo] + gs0[hi])
        gn[g] = gn0[g] + neighbour * (gn0[lo] + gn0[hi])
    shares = np.empty(7 * 24)
    k = 0
    for g in range(7 * 24):
        if gn[g] >= act_min_exposure and gn[g] > 0.0:
            shares[k] = gs[g] / gn[g]
            k += 1
    rate = 1.0
    if k > 0:
        ordered = np.sort(shares[:k])
        rate = min(1.0, max(act_floor, ordered[int(act_quantile * (k - 1))]))
    p = np.empty(HOURS_PER_WEEK)
    conf = np.empty(HOURS_PER_WEEK)
    for h in range(HOURS_PER_WEEK):
        g = day_type[h // 24] * 24 + h % 24
        pooled = (min(gs[g] / rate, gn[g]) + k_prior * prior[h]) / (gn[g] + k_prior)
        p[h] = (min(s[h] / rate, n[h]) + k_pool * pooled) / (n[h] + k_pool)
        conf[h] = 1.0 - (k_pool / (n[h] + k_pool)) * (k_prior / (gn[g] + k_prior))
    return p, conf
