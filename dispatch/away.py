"""Is the household away? From its usage events alone, and when it is likely back. Pure.

A household's usual pattern is summed up by the longest quiet spell of each day of its history
(nights, work days, a day out): the quiet spell it has now is "away" once it is longer than
`factor` times a high quantile of those (and at least `min_away`). Past away spells in the
history give the usual length of an absence; without any, a prior of vacation lengths is used.
The likely return is the median end of an absence of that length distribution, given how long
the household has been away already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

DAY_S = 86_400


@dataclass(frozen=True)
class AwayConfig:
    """Tunables of away detection."""

    history: timedelta = timedelta(weeks=8)
    min_history: timedelta = timedelta(days=7)  # less history: no verdict
    min_events: int = 20
    quantile: float = 0.95  # of the longest quiet spell per day
    factor: float = 1.5
    min_away: timedelta = timedelta(hours=30)
    prior_days: tuple[int, ...] = tuple(range(3, 15))  # lengths of an absence, equally likely
    return_margin: timedelta = timedelta(hours=12)  # time to settle in before a visit
    return_quantile: float = 0.75  # of the absence's length: later, but rarely too early


@dataclass(frozen=True)
class Away:
    """The verdict: away or not, since when, the likely return, and why."""

    away: bool
    since: datetime | None
    likely_return: datetime | None
    threshold: timedelta | None
    reason: str

    @property
    def visit_after(self) -> datetime | None:
        """The earliest a non-urgent visit should be proposed (None when not away)."""
        return self.likely_return if self.away else None


def _at(s: float) -> datetime:
    return datetime.fromtimestamp(s, UTC)


def daily_longest_quiet(times: np.ndarray, start_s: int, end_s: int) -> np.ndarray:
    """The longest quiet spell (s) starting in each whole day of [start_s, end_s)."""
    t = np.sort(times[(times >= start_s) & (times < end_s)])
    if t.size < 2:
        return np.zeros(0)
    gaps = np.diff(t).astype(np.float64)
    day = (t[:-1] - start_s) // DAY_S
    n_days = max(1, (end_s - start_s) // DAY_S)
    out = np.zeros(n_days)
    np.maximum.at(out, np.minimum(day, n_days - 1), gaps)
    return out


def _absences(times: np.ndarray, threshold_s: float) -> list[float]:
    gaps = np.diff(np.sort(times)).astype(np.float64)
    return [float(g) for g in gaps if g > threshold_s]


def likely_end(elapsed_s: float, lengths_s: list[float], quantile: float = 0.5) -> float:
    """The `quantile` (lower) of the total length of an absence that has lasted `elapsed_s`
    so far, among the known lengths longer than that (the median by default)."""
    longer = sorted(x for x in lengths_s if x > elapsed_s)
    if not longer:  # longer than anything known: a day more than now, each time we look
        return elapsed_s + DAY_S
    return longer[int((len(longer) - 1) * quantile)]


def detect(times_s: np.ndarray, *, now: datetime, config: AwayConfig = AwayConfig()) -> Away:
    """Whether the household is away at `now`, from epoch seconds of its usage events."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now_s = int(now.timestamp())
    start_s = now_s - int(config.history.total_seconds())
    t = np.sort(np.asarray(times_s, dtype=np.int64))
    t = t[(t >= start_s) & (t <= now_s)]
    if t.size < config.min_events or now_s - int(t[0]) < config.min_history.total_seconds():
        return Away(False, None, None, None, "too little usage history to tell")
    last = int(t[-1])
    # the pattern from the history before the current quiet spell
    spells = daily_longest_quiet(t, int(t[0]), last)
    usual = float(np.quantile(spells, config.quantile)) if spells.size else 0.0
    threshold = max(config.min_away.total_seconds(), config.factor * usual)
    quiet = now_s - last
    limit = timedelta(seconds=round(threshold))
    if quiet <= threshold:
        return Away(False, None, None, limit,
                    f"quiet for {quiet / 3600:.0f} h, within the usual {threshold / 3600:.0f} h")
    past = _absences(t, threshold)
    lengths = past if len(past) >= 2 else [d * DAY_S for d in config.prior_days] + past
    total = likely_end(float(quiet), lengths, config.return_quantile)
    back = _at(last + total) + config.return_margin
    return Away(True, _at(last), back, limit,
                f"no usage for {quiet / 86400:.1f} days (usual longest quiet spell "
                f"{usual / 3600:.0f} h); likely back around {back:%Y-%m-%d}")
