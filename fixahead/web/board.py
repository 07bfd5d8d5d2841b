"""The dispatch board's layout (pure): technicians as rows, days as columns, jobs as blocks.

One day: blocks on a time axis, placed in percent of the shown hours so the page scales; a job
that runs past the window's edge is clipped and marked. Several days: each day cell lists its
jobs in time order (a week of 50-minute blocks on a time axis is a few pixels wide each, too
narrow for a word). Times are epoch seconds inside (a board holds thousands of jobs), with the
local wall-clock labels and minutes supplied by the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

DAY_START, DAY_END = time(7, 0), time(19, 0)


class Job(NamedTuple):
    """A visit as the board shows it: epoch seconds, local labels and minutes of day
    (`end_min` counts from the start day's midnight, so it passes 1440 over midnight), what
    the block says and where the job is. A named tuple: a board builds thousands per request."""

    visit_id: int
    technician_id: int
    start_s: float
    end_s: float
    state: str  # held | booked | done
    urgent: bool
    incident_id: str
    job_no: int | None
    fault: str
    customer: str  # surname, or "" when names are not shown
    town: str
    start_hm: str
    end_hm: str
    start_min: int
    end_min: int
    lat: float
    lon: float


class Block(NamedTuple):
    """A job placed on the board: left and width in percent of its day column; jobs of one
    technician that overlap share the row's height, each in its own lane of `lanes`."""

    job: Job
    left: float
    width: float
    status: str  # css class: urgent | booked | held | done
    clipped: bool
    lane: int = 0
    lanes: int = 1


@dataclass(frozen=True)
class Column:
    """One day of the shown window."""

    day: date
    start: datetime
    end: datetime

    @property
    def span_s(self) -> tuple[float, float]:
        """(start, end) in epoch seconds."""
        return self.start.timestamp(), self.end.timestamp()


def columns(first: date, days: int, tz: str, *, start: time = DAY_START,
            end: time | None = DAY_END) -> list[Column]:
    """The day columns of the window (`start`-`end` local each; `end=None`: midnight)."""
    zone = ZoneInfo(tz)
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        stop = (datetime.combine(d + timedelta(days=1), time(0), zone) if end is None
                else datetime.combine(d, end, zone))
        out.append(Column(d, datetime.combine(d, start, zone), stop))
    return out


def fit_hours(jobs: list[Job], work: tuple[time, time] | None = None
              ) -> tuple[time, time | None]:
    """Whole hours wide enough for the working hours `work` (07-19 without) and every job
    (`None` as the end: midnight)."""
    lo, hi = DAY_START.hour * 60, DAY_END.hour * 60
    if work is not None:
        lo, hi = work[0].hour * 60 + work[0].minute, work[1].hour * 60 + work[1].minute
    for j in jobs:
        lo = min(lo, j.start_min)
        hi = max(hi, j.end_min)
    if hi > 1440:  # over midnight: whole days
        return time(0), None
    end_hour = -(-hi // 60)
    return time(lo // 60), (None if end_hour >= 24 else time(end_hour))


def status_of(job: Job) -> str:
    """The colour class of a job: urgent wins over its state."""
    if job.urgent and job.state != "done":
        return "urgent"
    return job.state


def place(jobs: list[Job], cols: list[Column]) -> dict[tuple[int, int], list[Block]]:
    """Blocks per (technician id, column index), in start order; overlapping jobs in lanes."""
    spans = [c.span_s for c in cols]
    out: dict[tuple[int, int], list[Block]] = {}
    for job in sorted(jobs, key=lambda j: (j.technician_id, j.start_s)):
        for ci, (c0, c1) in enumerate(spans):
            if job.end_s <= c0 or job.start_s >= c1:
                continue
            s, e = max(job.start_s, c0), min(job.end_s, c1)
            scale = 100.0 / (c1 - c0)
            out.setdefault((job.technician_id, ci), []).append(
                Block(job, round((s - c0) * scale, 2), round(max((e - s) * scale, 0.8), 2),
                      status_of(job), s != job.start_s or e != job.end_s))
    for key, cell in out.items():
        if any(b.job.start_s < a.job.end_s for a, b in pairwise(cell)):
            out[key] = lanes(cell)
    return out


def lanes(cell: list[Block]) -> list[Block]:
    """Blocks in start order with a lane each: a run of overlapping jobs (a double booking)
    is drawn one above the other instead of one hiding the other."""
    runs: list[list[Block]] = []
    run_end = float("-inf")
    for b in cell:
        if not runs or b.job.start_s >= run_end:
            runs.append([])
        runs[-1].append(b)
        run_end = max(run_end, b.job.end_s) if len(runs[-1]) > 1 else b.job.end_s
    out: list[Block] = []
    for run in runs:
        ends: list[float] = []  # per lane, where its last job ends
        placed = []
        for b in run:
            lane = next((i for i, end in enumerate(ends) if end <= b.job.start_s), len(ends))
            if lane == len(ends):
                ends.append(b.job.end_s)
            else:
                ends[lane] = b.job.end_s
            placed.append(b._replace(lane=lane))
        out.extend(b._replace(lanes=len(ends)) for b in placed)
    return out


def hour_marks(col: Column, step_h: int = 1) -> list[tuple[float, str]]:
    """(left percent, label) of every `step_h`-th full hour of a column."""
    span = (col.end - col.start).total_seconds()
    marks = []
    t = col.start
    while t < col.end:
        marks.append((round((t - col.start).total_seconds() / span * 100, 2), t.strftime("%H")))
        t += timedelta(hours=step_h)
    return marks


class _Offsets(dict[int, int]):
    """UTC offset in seconds by hour since the epoch, in one zone (a board asks thousands of
    times for a few dozen hours; a zone lookup each time was the largest cost of a query)."""

    def __init__(self, tz: str) -> None:
        super().__init__()
        self.zone = ZoneInfo(tz)

    def __missing__(self, hour: int) -> int:
        off = datetime.fromtimestamp(hour * 3600, self.zone).utcoffset()
        value = self[hour] = int(off.total_seconds()) if off is not None else 0
        return value


def with_local_times(rows: Sequence[Sequence[Any]], tz: str) -> list[Job]:
    """Jobs from (visit_id, technician_id, start_s, end_s, state, urgent, incident_id, job_no,
    fault, customer, town, lat, lon) rows, with local labels and minutes of day in `tz`."""
    offsets = _Offsets(tz)
    out = []
    for r in rows:
        start_s, end_s = r[2], r[3]
        local_start = start_s + offsets[int(start_s // 3600)]
        local_end = end_s + offsets[int(end_s // 3600)]
        midnight = local_start - local_start % 86400
        sm, em = int((local_start - midnight) // 60), int((local_end - midnight) // 60)
        out.append(Job(r[0], r[1], start_s, end_s, r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                       f"{sm // 60:02d}:{sm % 60:02d}",
                       f"{em // 60 % 24:02d}:{em % 60:02d}", sm, em, r[11], r[12]))
    return out


def surname(name: str) -> str:
    """The last word of a name (what a block has room for)."""
    parts = name.split()
    return parts[-1] if parts else ""
