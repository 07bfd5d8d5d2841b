"""A telemetry chart as inline SVG (pure): one line per metric, the detection marked.

No JavaScript chart library: the server draws polylines in a fixed viewBox, which the browser
scales to the page width.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 800, 90, 56, 12, 16, 20


@dataclass(frozen=True)
class Series:
    """A metric's samples: epoch seconds and values, in time order."""

    name: str
    unit: str
    times: tuple[float, ...]
    values: tuple[float, ...]


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%d %b %H:%M")


def thin(times: list[float], values: list[float], max_points: int = 600
         ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Keep at most `max_points` evenly spaced samples (always the last)."""
    if len(times) <= max_points:
        return tuple(times), tuple(values)
    step = len(times) / max_points
    idx = sorted({int(i * step) for i in range(max_points)} | {len(times) - 1})
    return tuple(times[i] for i in idx), tuple(values[i] for i in idx)


def svg(series: list[Series], *, start: float, end: float, detected: float | None,
        title: str) -> str:
    """One panel per series, stacked, sharing the time axis [start, end] (epoch seconds)."""
    if end <= start:
        end = start + 1
    panels = max(1, len(series))
    height = panels * (H + PAD_T) + PAD_B
    out = [f'<svg class="chart" viewBox="0 0 {W} {height}" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]

    def x(t: float) -> float:
        return PAD_L + (t - start) / (end - start) * (W - PAD_L - PAD_R)

    for k, s in enumerate(series):
        top = k * (H + PAD_T) + PAD_T
        finite = [v for v in s.values if v == v]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if hi - lo < 1e-9:
            lo, hi = lo - 1, hi + 1

        def y(v: float, top: float = top, lo: float = lo, hi: float = hi) -> float:
            return top + H - (v - lo) / (hi - lo) * H

        out.append(f'<text x="2" y="{top - 3}">{escape(s.name)} ({escape(s.unit)})</text>')
        out.append(f'<line class="axis" x1="{PAD_L}" y1="{top + H}" x2="{W - PAD_R}" '
                   f'y2="{top + H}"/>')
        out.append(f'<text x="2" y="{top + 10}">{_fmt(hi)}</text>'
                   f'<text x="2" y="{top + H}">{_fmt(lo)}</text>')
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(s.times, s.values, strict=True)
                          if v == v and start <= t <= end)
        if points:
            out.append(f'<polyline class="line" points="{points}"/>')
        else:
            out.append(f'<text x="{W / 2}" y="{top + H / 2}">no readings in this window</text>')
    bottom = panels * (H + PAD_T)
    out.append(f'<text x="{PAD_L}" y="{bottom + 14}">{_stamp(start)} UTC</text>'
               f'<text x="{W - PAD_R}" y="{bottom + 14}" text-anchor="end">{_stamp(end)}</text>')
    if detected is not None and start <= detected <= end:
        xd = x(detected)
        label = (f'<text x="{xd - 3:.1f}" y="10" text-anchor="end">detected</text>'
                 if xd > W * 0.8 else f'<text x="{xd + 3:.1f}" y="10">detected</text>')
        out.append(f'<line class="detect" x1="{xd:.1f}" y1="4" x2="{xd:.1f}" y2="{bottom}">'
                   f"<title>detected {_stamp(detected)} UTC</title></line>" + label)
    out.append("</svg>")
    return "".join(out)
