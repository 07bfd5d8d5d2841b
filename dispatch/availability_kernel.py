"""Numba kernel for availability: recency-weighted, Beta-smoothed presence per hour of week."""

from __future__ import annotations

import numpy as np
from numba import njit

HOURS_PER_WEEK = 168


@njit(cache=True)
def presence_kernel(week_age, how, n_weeks, decay, spread, prior, prior_strength, full_week):  # type: ignore[no-untyped-def]
    """Posterior P(home) and confidence for each hour of the week.

    week_age: int64[n], whole weeks between the event and the reference time (0 = newest week);
    how: int64[n], local hour of week (0 = Monday 00:00); an event marks its hour and `spread`
    hours either side as "someone home" in that week. Each observed week weighs decay**age,
    times min(1, events in that week / full_week), so a week with little data counts little.
    prior: float64[168] population P(home); prior_strength: pseudo-weeks of the prior.
    Returns (p float64[168], confidence float64[168]) with confidence = n_eff / (n_eff + k).
    """
    active = np.zeros((n_weeks, HOURS_PER_WEEK), dtype=np.bool_)
    counts = np.zeros(n_weeks)
    for i in range(week_age.shape[0]):
        w = week_age[i]
        if w < 0 or w >= n_weeks:
            continue
        counts[w] += 1.0
        h = how[i]
        for d in range(-spread, spread + 1):
            active[w, (h + d) % HOURS_PER_WEEK] = True
    n_eff = 0.0
    weight = np.empty(n_weeks)
    f = 1.0
    for w in range(n_weeks):
        weight[w] = f * min(1.0, counts[w] / full_week)
        n_eff += weight[w]
        f *= decay
    p = np.empty(HOURS_PER_WEEK)
    conf = np.empty(HOURS_PER_WEEK)
    for h in range(HOURS_PER_WEEK):
        s = 0.0
        for w in range(n_weeks):
            if active[w, h]:
                s += weight[w]
        p[h] = (prior[h] * prior_strength + s) / (prior_strength + n_eff)
        conf[h] = n_eff / (n_eff + prior_strength)
    return p, conf
