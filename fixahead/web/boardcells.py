"""The board's cells as HTML strings (pure): the hot loop of a big board, built without a
template engine (2,000 blocks through Jinja cost several times more than these f-strings)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from html import escape
from typing import Protocol

from fixahead.web.board import Block, Column, Job, status_of
from fixahead.web.boardload import Leg, Load, Shift

LANE_PX = 44  # the height of a block on the day view (app.css: .job), shared by its lanes


class TechLike(Protocol):
    """What a row needs of a technician."""

    technician_id: int
    name: str
    territory: str
    skills: tuple[str, ...]
    shift: Shift


def number(job: Job) -> str:
    """How people call the job: its stable number, or the visit id before it has one."""
    return f"J-{job.job_no}" if job.job_no is not None else f"visit {job.visit_id}"


class _Escaped(dict[str, str]):
    """Escaped text by text: a board repeats the same towns, names and codes many times."""

    def __missing__(self, key: str) -> str:
        value = self[key] = escape(key)
        return value


def _words(job: Job, esc: _Escaped) -> tuple[str, str, str]:
    return esc[job.fault or "?"], esc[job.customer], esc[job.town]


def _attrs(job: Job, status: str, words: tuple[str, str, str], note: str = "") -> str:
    # the visible text says time, fault, customer and town, cut short when the block is
    # narrow; the title says all of it, with the number, the end and the state
    said = " · ".join(w for w in words if w)
    return (f'data-visit="{job.visit_id}" data-tod="{job.start_min * 60}" '
            f'data-min="{int((job.end_s - job.start_s) // 60)}" href="/jobs/{job.visit_id}" '
            f'title="{number(job)} · {job.start_hm}–{job.end_hm} · {said} · {status}{note}"')


def _leg_html(leg: Leg, left: float, scale: float) -> str:
    width = round(leg.minutes * 60 * scale, 2)
    if leg.late:
        return (f'<i class="travel late" style="left:{max(left - width, 0.0)}%;width:{width}%"'
                f' title="{leg.minutes} min drive ({leg.km} km), only {leg.gap_minutes} min '
                f'between the jobs">{leg.minutes}′</i>')
    return (f'<i class="travel" style="left:{max(left - width, 0.0)}%;width:{width}%">'
            f"{leg.minutes}′</i>")


def day_cells(blocks: dict[tuple[int, int], list[Block]], cols: list[Column],
              legs: dict[int, Leg]) -> dict[tuple[int, int], str]:
    """Cells of a one-day board: blocks on the time axis, each after its drive."""
    scales = [100.0 / (c.span_s[1] - c.span_s[0]) for c in cols]
    esc = _Escaped()
    out = {}
    for key, cell in blocks.items():
        parts = []
        for b in cell:
            j = b.job
            leg = legs.get(j.visit_id)
            if leg is not None and not b.clipped:
                parts.append(_leg_html(leg, b.left, scales[key[1]]))
            words = _words(j, esc)
            fault, who, town = words
            cls, style, note = b.status, f"left:{b.left}%;width:{b.width}%", ""
            if b.clipped:
                cls += " clipped"
            if b.lanes > 1:  # a double booking: one above the other, both marked
                height = LANE_PX / b.lanes
                cls, note = cls + " overlap", " · overlaps another job"
                style += f";top:{3 + b.lane * height:.1f}px;height:{height - 1:.1f}px"
            parts.append(
                f'<a class="job {cls}" {_attrs(j, b.status, words, note)} style="{style}">'
                f"<b>{j.start_hm} {fault}</b><span>{who}</span><span>{town}</span></a>")
        out[key] = "".join(parts)
    return out


def agenda_cells(jobs: list[Job], cols: list[Column], legs: dict[int, Leg]
                 ) -> dict[tuple[int, int], str]:
    """Cells of a several-day board: each day's jobs as a list in time order."""
    starts = [c.span_s[0] for c in cols]
    ends = [c.span_s[1] for c in cols]
    esc = _Escaped()
    out: dict[tuple[int, int], list[str]] = {}
    tech, reach = -1, 0.0  # the technician so far, and when their latest job ends
    for j in sorted(jobs, key=lambda j: (j.technician_id, j.start_s)):
        ci = bisect_right(starts, j.start_s) - 1
        if ci < 0 or j.start_s >= ends[ci]:
            continue
        status = status_of(j)
        words = _words(j, esc)
        fault, who, town = words
        leg = legs.get(j.visit_id)
        drive = ("" if leg is None else f'<i class="drive late" title="only {leg.gap_minutes} '
                 f'min between the jobs">{leg.minutes}′</i>' if leg.late
                 else f'<i class="drive">{leg.minutes}′</i>')
        clash = j.technician_id == tech and j.start_s < reach  # starts before one ends
        reach = max(reach, j.end_s) if j.technician_id == tech else j.end_s
        tech = j.technician_id
        # surname and town are items of their own: a narrow chip wraps them to a second line
        who_html = f"<span>{who}</span>" if who else ""
        town_html = f'<span class="town">{town}</span>' if town else ""
        out.setdefault((j.technician_id, ci), []).append(
            f'<a class="chip {status}{" overlap" if clash else ""}" '
            f'{_attrs(j, status, words, " · overlaps the job before" if clash else "")}>'
            f"{drive}<b>{j.start_hm} {fault}</b>{who_html}{town_html}</a>")
    return {k: "".join(v) for k, v in out.items()}


def load_html(load: Load) -> str:
    """A day's load as a small bar (drawn by CSS from --p) with its figures."""
    if load.text == "off":
        return '<span class="load off">off</span>'
    level = "over" if load.percent > 100 else "high" if load.percent >= 85 else "fine"
    return f'<span class="load {level}" style="--p:{min(load.percent, 100)}%">{load.text}</span>'



def rows_html(techs: Sequence[TechLike], cols: list[Column], cells: dict[tuple[int, int], str],
              loads: dict[tuple[int, int], str], *, axis: bool, idle: set[int]) -> str:
    """Every technician's row: name, territory and skills (and the day's load on a one-day
    board), then a cell per day (its load first on a several-day board)."""
    out = []
    days = [c.day for c in cols]
    for t in techs:
        tid = t.technician_id
        head = (f'<div class="tech"><span class="tname">{escape(t.name)}</span>'
                f"<small>{escape(t.territory)} · {escape(', '.join(t.skills))}</small>"
                f"{loads.get((tid, 0), '') if axis else ''}</div>")
        parts = [f'<div class="brow" data-tech="{tid}">', head]
        for i, d in enumerate(days):
            cls = ("day off" if t.shift.hours_on(d) == 0 else "day") + (" idle" if i in idle
                                                                         else "")
            parts.append(f'<div class="{cls}" data-col="{i}">'
                         f"{'' if axis else loads.get((tid, i), '')}{cells.get((tid, i), '')}"
                         "</div>")
        parts.append("</div>")
        out.append("".join(parts))
    return "\n".join(out)
