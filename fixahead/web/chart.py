"""A telemetry chart as inline SVG (pure): one line per metric, the detection marked.

No JavaScript chart library: the server draws polylines in a fixed viewBox, which the browser
scales to the page width.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 800, 90, 56, 12, 16, 20


@dataclass(frozen=True)
class Series:
    """A metric's samples: epoch seconds and values, in time order."""

    name: str
    unit: str
    times: tuple[float, ...]
    values: tuple[float, ...]
    limits: tuple[tuple[str, float], ...] = ()  # (label, level) lines the rules act on


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _stamp(t: float, tz: str = "UTC") -> str:
    return datetime.fromtimestamp(t, UTC).astimezone(ZoneInfo(tz)).strftime("%d %b %H:%M")


def thin(times: list[float], values: list[float], max_points: int = 600
         ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Keep at most `max_points` evenly spaced samples (always the last)."""
    if len(times) <= max_points:
        return tuple(times), tuple(values)
    step = len(times) / max_points
    idx = sorted({int(i * step) for i in range(max_points)} | {len(times) - 1})
    return tuple(times[i] for i in idx), tuple(values[i] for i in idx)


def _range(s: Series) -> tuple[float, float]:
    finite = [v for v in s.values if v == v] + [level for _, level in s.limits]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.06
    return lo - pad, hi + pad


def _panel(s: Series, top: float, x: Callable[[float], float], start: float,
           end: float) -> list[str]:
    lo, hi = _range(s)

    def y(v: float) -> float:
        return top + H - (v - lo) / (hi - lo) * H

    out = [f'<text x="2" y="{top - 3}">{escape(s.name)} ({escape(s.unit)})</text>',
           f'<line class="axis" x1="{PAD_L}" y1="{top + H}" x2="{W - PAD_R}" y2="{top + H}"/>',
           f'<text x="2" y="{top + 10}">{_fmt(hi)}</text>'
           f'<text x="2" y="{top + H}">{_fmt(lo)}</text>']
    for label, level in s.limits:
        out.append(f'<line class="limit" x1="{PAD_L}" y1="{y(level):.1f}" x2="{W - PAD_R}" '
                   f'y2="{y(level):.1f}"><title>{escape(label)}</title></line>'
                   f'<text class="limit" x="{W - PAD_R - 2}" y="{y(level) - 2:.1f}" '
                   f'text-anchor="end">{escape(label)}</text>')
    pts = [(x(t), y(v)) for t, v in zip(s.times, s.values, strict=True)
           if v == v and start <= t <= end]
    if not pts:
        out.append(f'<text class="nodata" x="{(W + PAD_L) / 2}" y="{top + H / 2}" '
                   f'text-anchor="middle">no data in this window</text>')
        return out
    if len(pts) > 1:
        out.append('<polyline class="line" points="'
                   + " ".join(f"{px:.1f},{py:.1f}" for px, py in pts) + '"/>')
    if len(pts) <= 40:  # few readings: each one visible (a single one has no line)
        out += [f'<circle class="dot" cx="{px:.1f}" cy="{py:.1f}" r="2.5"/>' for px, py in pts]
    return out


def svg(series: list[Series], *, start: float, end: float, detected: float | None,
        title: str, tz: str = "UTC") -> str:
    """One panel per series, stacked, sharing the time axis [start, end] (epoch seconds),
    with the rules' levels as dashed lines; "no data" where a panel (or the chart) has none."""
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
        out += _panel(s, k * (H + PAD_T) + PAD_T, x, start, end)
    if not series:
        out.append(f'<text class="nodata" x="{W / 2}" y="{PAD_T + H / 2}" '
                   f'text-anchor="middle">no data: this appliance sent no readings</text>')
    bottom = panels * (H + PAD_T)
    out.append(f'<text x="{PAD_L}" y="{bottom + 14}">{_stamp(start, tz)} ({escape(tz)})</text>'
               f'<text x="{W - PAD_R}" y="{bottom + 14}" text-anchor="end">'
               f"{_stamp(end, tz)}</text>")
    if detected is not None and start <= detected <= end:
        xd = x(detected)
        label = (f'<text x="{xd - 3:.1f}" y="10" text-anchor="end">detected</text>'
                 if xd > W * 0.8 else f'<text x="{xd + 3:.1f}" y="10">detected</text>')
        out.append(f'<line class="detect" x1="{xd:.1f}" y1="4" x2="{xd:.1f}" y2="{bottom}">'
                   f"<title>detected {_stamp(detected, tz)}</title></line>" + label)
    out.append("</svg>")
    return "".join(out)
