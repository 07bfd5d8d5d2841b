"""Choosing a visit window from P(home): window probabilities and a pick never worse than first."""

from __future__ import annotations

import numpy as np

from dispatch.availability_evidence import hour_of_week

MARGIN = 0.1  # a later window must beat the first one by this much to be preferred


def window_p(p_how: np.ndarray, starts_s: np.ndarray, tz: str, hours: int = 2) -> np.ndarray:
    """P(home for the whole window) of windows starting at `starts_s`: the least likely hour."""
    starts = np.asarray(starts_s, dtype=np.int64)
    p = np.ones(starts.size)
    for k in range(hours):
        p = np.minimum(p, p_how[hour_of_week(starts + 3600 * k, tz)])
    return p


def best_window(p: np.ndarray, margin: float = MARGIN) -> int:
    """Index of the window to offer: the likeliest, unless the first is about as likely.

    Windows are in time order; the first free one is what a scheduler without a model would
    book, so it is kept unless the model is clearly surer of another."""
    p = np.asarray(p, dtype=np.float64)
    if p.size == 0:
        raise ValueError("no candidate windows")
    best = int(np.argmax(p))  # the earliest of equal maxima
    return best if p[best] >= p[0] + margin else 0
