"""The dispatch board's layout (pure): technicians as rows, time across, jobs as blocks.

Blocks are placed in percent of the shown window so the page scales to any width; a job that
runs past the window's edge is clipped and marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape
from zoneinfo import ZoneInfo

DAY_START, DAY_END = time(6, 0), time(22, 0)


@dataclass(frozen=True)
class Job:
    """A visit as the board shows it."""

    visit_id: int
    technician_id: int
    start: datetime
    end: datetime
    state: str  # held | booked | done
    urgent: bool
    incident_id: str
    label: str


@dataclass(frozen=True)
class Block:
    """A job placed on the board: left and width in percent of its day column."""

    job: Job
    left: float
    width: float
    status: str  # css class: urgent | booked | held | done
    clipped: bool


@dataclass(frozen=True)
class Column:
    """One day of the shown window."""

    day: date
    start: datetime
    end: datetime


def columns(first: date, days: int, tz: str, *, start: time = DAY_START,
            end: time | None = DAY_END) -> list[Column]:
    """The day columns of the window (06:00-22:00 local each; `end=None`: midnight)."""
    zone = ZoneInfo(tz)
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        stop = (datetime.combine(d + timedelta(days=1), time(0), zone) if end is None
                else datetime.combine(d, end, zone))
        out.append(Column(d, datetime.combine(d, start, zone), stop))
    return out


def fit_hours(jobs: list[Job], tz: str) -> tuple[time, time | None]:
    """Working hours wide enough for every job: 06-22, widened to whole hours as needed."""
    zone = ZoneInfo(tz)
    lo, hi = DAY_START.hour, DAY_END.hour
    for j in jobs:
        s, e = j.start.astimezone(zone), j.end.astimezone(zone)
        if s.date() != e.date() and e.time() != time(0):
            return time(0), None  # runs over midnight: show whole days
        lo = min(lo, s.hour)
        hi = max(hi, e.hour + (1 if e.minute or e.second else 0) if e.time() != time(0) else 24)
    return time(lo), (None if hi >= 24 else time(hi))


def status_of(job: Job) -> str:
    """The colour class of a job: urgent wins over its state."""
    if job.urgent and job.state != "done":
        return "urgent"
    return job.state


def place(jobs: list[Job], cols: list[Column]) -> dict[tuple[int, int], list[Block]]:
    """Blocks per (technician id, column index), in start order."""
    out: dict[tuple[int, int], list[Block]] = {}
    for job in sorted(jobs, key=lambda j: (j.technician_id, j.start)):
        for ci, col in enumerate(cols):
            if job.end <= col.start or job.start >= col.end:
                continue
            span = (col.end - col.start).total_seconds()
            s = max(job.start, col.start)
            e = min(job.end, col.end)
            left = (s - col.start).total_seconds() / span * 100
            width = max((e - s).total_seconds() / span * 100, 0.8)
            out.setdefault((job.technician_id, ci), []).append(
                Block(job, round(left, 2), round(width, 2), status_of(job),
                      s != job.start or e != job.end))
    return out


def hour_marks(col: Column) -> list[tuple[float, str]]:
    """(left percent, label) of every second full hour of a column."""
    span = (col.end - col.start).total_seconds()
    marks = []
    t = col.start
    while t < col.end:
        marks.append((round((t - col.start).total_seconds() / span * 100, 2), t.strftime("%H")))
        t += timedelta(hours=2)
    return marks


def cells_html(blocks: dict[tuple[int, int], list[Block]], tz: str) -> dict[tuple[int, int], str]:
    """The links of each cell as HTML: the hot loop of a big board, built without a template
    engine (2,000 blocks through Jinja cost several times more)."""
    zone = ZoneInfo(tz)
    out = {}
    for key, cell in blocks.items():
        parts = []
        for b in cell:
            j = b.job
            s, e = j.start.astimezone(zone).strftime("%H:%M"), j.end.astimezone(zone).strftime(
                "%H:%M")
            label = escape(j.label)
            parts.append(
                f'<a class="job {b.status}{" clipped" if b.clipped else ""}" '
                f'data-visit="{j.visit_id}" href="/jobs/{j.visit_id}" '
                f'style="left:{b.left}%;width:{b.width}%" '
                f'aria-label="{s}–{e} {label} ({b.status})">{s} {label}</a>')
        out[key] = "".join(parts)
    return out
