"""The evidence the availability model learns from: lived hours, usage events, visit outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

HOURS_PER_WEEK = 168
WEEK_S = 7 * 86400
QUIET, EVENT, BRIDGED, SEEN_HOME, SEEN_AWAY = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Outcome:
    """What a visit or a customer told us about one interval: home or not, and how surely."""

    start: datetime
    end: datetime
    home: bool
    strength: float  # pseudo-observations per hour

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("outcome times must be timezone-aware")
        if self.end <= self.start or self.strength <= 0:
            raise ValueError("an outcome needs end > start and a positive strength")


def nobody_home(start: datetime, end: datetime) -> list[Outcome]:
    """A technician found nobody home: strong evidence of absence."""
    return [Outcome(start, end, False, 3.0)]


def confirmed_visit(start: datetime, end: datetime) -> list[Outcome]:
    """A visit took place (someone let the technician in): strong evidence of presence."""
    return [Outcome(start, end, True, 3.0)]


def picked_another(offered: tuple[datetime, datetime],
                   chosen: tuple[datetime, datetime]) -> list[Outcome]:
    """The customer turned down the offered window and picked another one."""
    return [Outcome(offered[0], offered[1], False, 1.0), Outcome(chosen[0], chosen[1], True, 2.0)]


def outcome_for(kind: str, start: datetime, end: datetime,
                chosen: tuple[datetime, datetime] | None = None) -> list[Outcome]:
    """Outcomes for a recorded kind: nobody_home, confirmed, picked_another (needs `chosen`)."""
    if kind == "nobody_home":
        return nobody_home(start, end)
    if kind == "confirmed":
        return confirmed_visit(start, end)
    if kind == "picked_another" and chosen is not None:
        return picked_another((start, end), chosen)
    raise ValueError(f"unknown outcome kind {kind!r} (or picked_another without a chosen window)")


def local_hour(ts_s: np.ndarray, tz: str) -> np.ndarray:
    """Local hour index (local wall-clock seconds since the epoch // 3600), DST-aware."""
    ts = np.asarray(ts_s, dtype=np.int64)
    if ts.size == 0:
        return np.zeros(0, dtype=np.int64)
    zone = ZoneInfo(tz)
    hours, inverse = np.unique(ts // 3600, return_inverse=True)
    offsets = np.fromiter(
        (datetime.fromtimestamp(int(h) * 3600, zone).utcoffset().total_seconds()  # type: ignore[union-attr]
         for h in hours), dtype=np.int64, count=hours.size)
    return (ts + offsets[inverse.reshape(-1)]) // 3600


def hour_of_week(ts_s: np.ndarray, tz: str) -> np.ndarray:
    """Local hour of week (0 = Monday 00:00) of epoch seconds in `tz`, DST-aware."""
    # 1970-01-01 was a Thursday: shift by three days so that Monday 00:00 is hour 0
    return (local_hour(ts_s, tz) + 72) % HOURS_PER_WEEK


@dataclass(frozen=True)
class Observations:
    """One row per observed hour: its local hour of week, weight and kind (QUIET...SEEN_AWAY)."""

    how: np.ndarray
    weight: np.ndarray
    kind: np.ndarray
    events: int


def _lived(start: int, now_s: int, decay: float) -> tuple[np.ndarray, np.ndarray]:
    """Absolute hours of [start, now) and their weights (fraction lived times recency)."""
    if now_s <= start:
        return np.zeros(0, np.int64), np.zeros(0)
    hours = np.arange(start // 3600, (now_s - 1) // 3600 + 1, dtype=np.int64)
    begin = np.maximum(hours * 3600, start)
    lived = (np.minimum(hours * 3600 + 3600, now_s) - begin) / 3600.0
    return hours, lived * decay ** ((now_s - begin) / WEEK_S)


def _kinds(hours: np.ndarray, ts: np.ndarray, bridge_s: float) -> np.ndarray:
    """EVENT for hours with an event, BRIDGED for quiet hours between close events, else QUIET."""
    kind = np.zeros(hours.size, dtype=np.int64)
    if ts.size == 0 or hours.size == 0:
        return kind
    kind[np.isin(hours, np.unique(ts // 3600))] = EVENT
    start = hours * 3600
    before = np.searchsorted(ts, start, side="right") - 1
    after = np.searchsorted(ts, start + 3600, side="left")
    ok = (before >= 0) & (after < ts.size)
    prev = np.where(ok, ts[np.clip(before, 0, ts.size - 1)], 0)
    nxt = np.where(ok, ts[np.clip(after, 0, ts.size - 1)], 0)
    bridged = ok & (start - prev <= bridge_s) & (nxt - start - 3600 <= bridge_s)
    kind[(kind == QUIET) & bridged] = BRIDGED
    return kind


def instances(ts: np.ndarray, *, tz: str, now: datetime, observed_since: datetime | None,
              window_weeks: int, decay: float, bridge_hours: float,
              outcomes: Sequence[Outcome] = ()) -> Observations:
    """Every hour lived in the window since data started, and every outcome hour before now."""
    now_s = int(now.timestamp())
    window_start = now_s - window_weeks * WEEK_S
    ts = np.sort(ts[(ts <= now_s) & (ts > window_start)])
    if observed_since is not None:
        start = max(int(observed_since.timestamp()), window_start)
        ts = ts[ts >= start]
    else:
        start = int(ts[0]) if ts.size else now_s
    hours, weight = _lived(start, now_s, decay)
    kind = _kinds(hours, ts, bridge_hours * 3600)
    extra_h, extra_w, extra_k = [], [], []
    for o in outcomes:
        t = o.start
        while t < o.end and t < now and t.timestamp() > window_start:
            extra_h.append(int(t.timestamp()) // 3600)
            age = (now_s - t.timestamp()) / WEEK_S
            extra_w.append(o.strength * decay ** age)
            extra_k.append(SEEN_HOME if o.home else SEEN_AWAY)
            t += timedelta(hours=1)
    all_hours = np.concatenate([hours, np.array(extra_h, np.int64)])
    how = hour_of_week(all_hours * 3600, tz)
    return Observations(how, np.concatenate([weight, np.array(extra_w, np.float64)]),
                        np.concatenate([kind, np.array(extra_k, np.int64)]), int(ts.size))
