"""The board's cells as HTML strings (pure): the hot loop of a big board, built without a
template engine (2,000 blocks through Jinja cost several times more than these f-strings)."""

from __future__ import annotations

from html import escape

from fixahead.web.board import Block, Column, Job, status_of
from fixahead.web.boardload import Leg, Load


def number(job: Job) -> str:
    """How people call the job: its stable number, or the visit id before it has one."""
    return f"J-{job.job_no}" if job.job_no is not None else f"visit {job.visit_id}"


def _words(job: Job) -> tuple[str, str]:
    who = " · ".join(p for p in (job.customer, job.town) if p)
    return escape(job.fault or "?"), escape(who)


def _attrs(job: Job, status: str, tod_s: int) -> str:
    fault, who = _words(job)
    minutes = int((job.end_s - job.start_s) // 60)
    title = (f"{number(job)} · {job.start_hm}–{job.end_hm} · {fault}"
             f"{' · ' + who if who else ''} · {status}")
    return (f'draggable="true" data-visit="{job.visit_id}" data-job="{number(job)}" '
            f'data-tod="{tod_s}" data-min="{minutes}" href="/jobs/{job.visit_id}" '
            f'title="{title}"')


def _leg_html(leg: Leg, left: float, scale: float) -> str:
    width = round(leg.minutes * 60 * scale, 2)
    late = " late" if leg.late else ""
    why = (f"{leg.minutes} min drive ({leg.km} km)" +
           (f", only {leg.gap_minutes} min between the jobs" if leg.late else ""))
    return (f'<i class="travel{late}" style="left:{max(left - width, 0.0)}%;width:{width}%" '
            f'title="{why}">{leg.minutes}′</i>')


def day_cells(blocks: dict[tuple[int, int], list[Block]], cols: list[Column],
              legs: dict[int, Leg]) -> dict[tuple[int, int], str]:
    """Cells of a one-day board: blocks on the time axis, each after its drive."""
    scales = [100.0 / (c.span_s[1] - c.span_s[0]) for c in cols]
    out = {}
    for key, cell in blocks.items():
        parts = []
        for b in cell:
            j = b.job
            leg = legs.get(j.visit_id)
            if leg is not None and not b.clipped:
                parts.append(_leg_html(leg, b.left, scales[key[1]]))
            fault, who = _words(j)
            parts.append(
                f'<a class="job {b.status}{" clipped" if b.clipped else ""}" '
                f'{_attrs(j, b.status, j.start_min * 60)} '
                f'style="left:{b.left}%;width:{b.width}%">'
                f"<b>{j.start_hm} {fault}</b><span>{who}</span></a>")
        out[key] = "".join(parts)
    return out


def agenda_cells(jobs: list[Job], cols: list[Column], legs: dict[int, Leg]
                 ) -> dict[tuple[int, int], str]:
    """Cells of a several-day board: each day's jobs as a list in time order."""
    spans = [c.span_s for c in cols]
    out: dict[tuple[int, int], list[str]] = {}
    for j in sorted(jobs, key=lambda j: (j.technician_id, j.start_s)):
        ci = next((i for i, (c0, c1) in enumerate(spans) if c0 <= j.start_s < c1), None)
        if ci is None:
            continue
        status = status_of(j)
        fault, who = _words(j)
        leg = legs.get(j.visit_id)
        drive = (f'<i class="drive{" late" if leg.late else ""}" title="{leg.minutes} min '
                 f'drive ({leg.km} km)">{leg.minutes}′</i>' if leg else "")
        out.setdefault((j.technician_id, ci), []).append(
            f'<a class="chip {status}" {_attrs(j, status, j.start_min * 60)}>'
            f"{drive}<b>{j.start_hm} {fault}</b> <span>{who}</span></a>")
    return {k: "".join(v) for k, v in out.items()}


def load_html(load: Load) -> str:
    """A day's load as a small bar with its figures."""
    level = "over" if load.percent > 100 else "high" if load.percent >= 85 else "ok"
    return (f'<span class="load {level}" title="booked {load.text} of working hours">'
            f'<span class="bar" style="width:{min(load.percent, 100)}%"></span>'
            f"<span class=\"fig\">{load.text}</span></span>")
