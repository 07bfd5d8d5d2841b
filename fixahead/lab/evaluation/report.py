"""A readable Markdown report of an evaluation, with plain SVG charts beside it.

`render(doc)` is pure and returns (markdown, {file name: svg text}); `write_report` puts them
on disk. The charts are files linked from the Markdown (GitHub and most viewers do not show
`<svg>` written inline), drawn by hand so the report needs no plotting library.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

W, H, PAD = 560, 220, 40


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3g}{unit}"
    return f"{v}{unit}"


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, unit: str = "") -> str:
    """A horizontal-axis bar chart as an SVG document."""
    top = max((v for _, v in bars), default=0.0) or 1.0
    width = (W - 2 * PAD) / max(len(bars), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{W / 2}" y="16" text-anchor="middle" font-size="13">'
             f'{escape(title)}</text>',
             f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#333"/>']
    for i, (label, v) in enumerate(bars):
        h = (H - 2 * PAD - 10) * v / top
        x = PAD + i * width + width * 0.15
        parts.append(f'<rect x="{x:.1f}" y="{H - PAD - h:.1f}" width="{width * 0.7:.1f}" '
                     f'height="{h:.1f}" fill="#3b7dd8"/>')
        parts.append(f'<text x="{x + width * 0.35:.1f}" y="{H - PAD - h - 4:.1f}" '
                     f'text-anchor="middle">{escape(_fmt(v, unit))}</text>')
        parts.append(f'<text x="{x + width * 0.35:.1f}" y="{H - PAD + 14}" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def histogram(values: Sequence[float], *, bins: int = 10) -> list[tuple[str, float]]:
    """(bin label, count) pairs over the values' range."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    step = (hi - lo) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / step), bins - 1)] += 1
    return [(f"{lo + i * step:.3g}", float(c)) for i, c in enumerate(counts)]


def _table(rows: Sequence[tuple[str, str, str]]) -> list[str]:
    out = ["| figure | value | what it is |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return out


def render(doc: Mapping[str, Any], *, stem: str = "evaluation") -> tuple[str, dict[str, str]]:
    """The report's Markdown and its SVG charts (file name -> text)."""
    d, p, c = doc["detection"], doc["dispatch"], doc["counts"]
    cfg, details = doc.get("config", {}), doc.get("details", {})
    lines = [f"# Evaluation of run seed {cfg.get('seed')} ({_fmt(cfg.get('days'))} days)", "",
             f"{c['households']} households, {c['devices']} devices, "
             f"{_fmt(c['device_days'])} device-days. Faults by kind: "
             + (", ".join(f"{k} {v}" for k, v in c["faults"].items()) or "none")
             + f". Incidents {c['incidents']}, emails {c['emails']}, visits {c['visits']}.",
             "", "Computed from the simulator's ground truth and the platform's tables "
             "(see docs/evaluation.md for every definition).", "", "## Detection", ""]
    lines += _table([
        ("recall before failure", _pct(d["recall_before_failure"]),
         f"{d['gradual_detected_before_failure']} of {d['gradual_faults']} gradual faults "
         "flagged between onset and hard failure"),
        ("median lead", _fmt(d["median_lead_days"], " d"), "hard failure minus incident open"),
        ("p10 lead", _fmt(d["p10_lead_days"], " d"), "the short end of the lead times"),
        ("false alarms / 1000 device-days", _fmt(d["false_alarms_per_1000_device_days"]),
         f"{d['false_alarms']} incidents matching no true fault"),
        ("symptoms under another code", str(d.get("symptom_incidents", 0)),
         "incidents naming a code a real fault of the device sets off (not false alarms, "
         "not detections)"),
        ("sudden faults acted on", _pct(d["sudden_acted_share"]),
         f"{d['sudden_acted']} of {d['sudden_faults']}: an email or a visit"),
        ("network outages flagged", f"{d.get('network_outages_flagged', 0)} of "
         f"{d.get('network_outages', 0)}", "disconnects with an \"appliance offline\" incident"),
        ("p99 error code to email", _fmt(d["p99_error_to_email_s"], " s"),
         f"wall clock, event arrival to outbox row; {d['error_emails_timed']} timed, "
         f"{d['error_emails_in_digest']} only in a digest"),
    ])
    by_code = details.get("false_alarms_by_code") or {}
    if by_code:
        lines += ["", "False alarms by the code the incident named: "
                  + ", ".join(f"{k} {v}" for k, v in list(by_code.items())[:8]) + "."]
    rules = doc.get("rules") or {}
    if rules:
        lines += ["", "## Rules", "", "Each rule's incidents on the simulated fleet and the share "
                  "about a true fault (`fixahead rules precision` gives the same from "
                  "technicians' outcome codes).", "",
                  "| rule | incidents | true | symptom | false | precision |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {src} | {r['incidents']} | {r['true']} | {r.get('symptom', 0)} | "
                  f"{r['false']} | {_pct(r['precision'])} |" for src, r in rules.items()]
    lines += ["", "## Dispatch", ""]
    lines += _table([
        ("emails per incident", _fmt(p["emails_per_incident"]),
         f"{p['emails']} emails for {c['incidents']} incidents"),
        ("self-help share", _pct(p["self_help_share"]),
         f"{p['self_help_sent']} of {p['customer_fixable_faults']} customer-fixable faults"),
        ("home rate", _pct(p["home_rate"]),
         f"{p['visits_scored']} visits scored, {p['visits_beyond_truth']} beyond the truth"),
        ("home rate, same incidents", _pct(p["home_rate_paired"]),
         f"{p['baseline_paired']} incidents both could be scored on"),
        ("home rate, first free slot", _pct(p["home_rate_baseline"]), "baseline, same incidents"),
        ("away proposals", _pct(p["away_proposals_share"]),
         f"{p['away_proposals']} visits during a vacation"),
    ])
    charts = {}
    if details.get("lead_days"):
        charts[f"{stem}-lead.svg"] = bar_chart("Lead time before hard failure (days)",
                                               histogram(details["lead_days"]))
    if p["home_rate_paired"] is not None:
        charts[f"{stem}-home.svg"] = bar_chart(
            "Visits when the household was home",
            [("ours", 100 * p["home_rate_paired"]),
             ("first free", 100 * (p["home_rate_baseline"] or 0.0))], unit="%")
    if details.get("error_to_email_s"):
        charts[f"{stem}-latency.svg"] = bar_chart("Error code to email (s, wall clock)",
                                                  histogram(details["error_to_email_s"]))
    if charts:
        lines += ["", "## Charts", ""] + [f"![{n}]({n})" for n in charts]
    lines += ["", "## Counts", "", "```json", json.dumps(c, indent=1), "```", ""]
    return "\n".join(lines), charts


def write_report(doc: Mapping[str, Any], json_path: Path) -> list[Path]:
    """Write the JSON to `json_path`, and the Markdown report and charts beside it."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(doc, indent=2) + "\n")
    markdown, charts = render(doc, stem=json_path.stem)
    md = json_path.with_suffix(".md")
    md.write_text(markdown)
    written = [json_path, md]
    for name, svg in charts.items():
        (json_path.parent / name).write_text(svg)
        written.append(json_path.parent / name)
    return written
