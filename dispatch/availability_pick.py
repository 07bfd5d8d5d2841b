"""Choosing a visit window from P(home): window probabilities and a pick never worse than first."""

from __future__ import annotations

import math

import numpy as np

from dispatch.availability_evidence import hour_of_week

MARGIN = 0.03  # with 4 weeks of evidence, a later window must beat the first one by this much
FULL_DAYS = 28.0  # the evidence MARGIN is meant for; thinner evidence asks for more
TIE = 0.02  # windows this close to the likeliest count as equally likely: the earliest is taken
# more margin asked of a household in proportion to P(its routine is being home all day)
# (availability_routine): its first window is as likely home as any, so moves away lose
HOMEBODY_MARGIN = 0.1


def window_p(p_how: np.ndarray, starts_s: np.ndarray, tz: str, hours: int = 2) -> np.ndarray:
    """P(home for the whole window) of windows starting at `starts_s`: the least likely hour."""
    starts = np.asarray(starts_s, dtype=np.int64)
    p = np.ones(starts.size)
    for k in range(hours):
        p = np.minimum(p, p_how[hour_of_week(starts + 3600 * k, tz)])
    return p


def window_probability(p_how: np.ndarray, starts_s: np.ndarray, tz: str,
                       p_window: np.ndarray | None = None) -> np.ndarray:
    """P(home for the whole 2-hour window) of windows starting on the hour at `starts_s`: the
    window model's own figure when there is one, else the least likely of its two hours."""
    if p_window is None:
        return window_p(p_how, starts_s, tz)
    return np.asarray(p_window[hour_of_week(np.asarray(starts_s, dtype=np.int64), tz)])


def best_window(p: np.ndarray, margin: float = MARGIN, *, days: float = FULL_DAYS,
                tie: float = TIE, homebody: float = 0.0) -> int:
    """Index of the window to offer: the likeliest, unless the first is about as likely.

    Windows are in time order; the first free one is what a scheduler without a model would
    book, so it is kept unless the model is clearly surer of another: by `margin` with
    `FULL_DAYS` of evidence, by `margin * sqrt(FULL_DAYS / days)` with `days` (the error of a
    frequency shrinks with the square root of the days behind it), plus `HOMEBODY_MARGIN`
    times `homebody`, P(the household's routine is being home all day) from
    `availability_routine` (whose first window is as good as any). Among windows within `tie`
    of the likeliest the earliest is taken (the estimates cannot tell them apart, and an
    earlier visit fixes the appliance sooner)."""
    p = np.asarray(p, dtype=np.float64)
    if p.size == 0:
        raise ValueError("no candidate windows")
    best = float(p.max())
    need = margin * math.sqrt(FULL_DAYS / max(days, 1.0)) + HOMEBODY_MARGIN * homebody
    if p[0] >= best - need:
        return 0
    return int(np.flatnonzero(p >= best - tie)[0])
