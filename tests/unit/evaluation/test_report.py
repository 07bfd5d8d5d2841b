"""The Markdown report and its charts, rendered from a scored hand-made run."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fixahead.lab.evaluation.report import bar_chart, histogram, render
from fixahead.lab.evaluation.score import score
from fixahead.lab.evaluation.types import Records
from tests.support.evaluation_cases import detection_case, visit_case


def test_report_names_every_headline_figure_and_links_its_charts() -> None:
    gt, rec = detection_case()
    markdown, charts = render(score(gt, rec), stem="run")
    for words in ("recall before failure", "50.0%", "false alarms", "p99 error code to email",
                  "2.5 s", "False alarms by the code the incident named: F9 1",
                  "emails per incident", "self-help share", "home rate"):
        assert words in markdown
    assert "![run-lead.svg](run-lead.svg)" in markdown
    assert set(charts) == {"run-lead.svg", "run-latency.svg"}


def test_charts_are_well_formed_svg() -> None:
    gt, rec = visit_case()
    _, charts = render(score(gt, rec), stem="x")
    assert "x-home.svg" in charts
    for svg in charts.values():
        assert ET.fromstring(svg).tag.endswith("svg")


def test_an_empty_run_renders_without_charts() -> None:
    from tests.support.evaluation_cases import truth

    markdown, charts = render(score(truth([]), Records()))
    assert "n/a" in markdown and charts == {}


def test_histogram_puts_the_maximum_in_the_last_bin() -> None:
    assert [c for _, c in histogram([0.0, 1.0, 2.0, 10.0], bins=2)] == [3.0, 1.0]
    assert ET.fromstring(bar_chart("t <&>", [("a", 1.0)])).tag.endswith("svg")
