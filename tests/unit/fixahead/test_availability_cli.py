"""`fixahead availability predict`: the CSV contract and its errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fixahead.cli import _register_areas, app

AT = "2026-11-23T12:00:00+01:00"
EVENTS = "timestamp,device\n2026-11-16T07:10:00+01:00,fridge\n1763280000,washer\n\n"


@pytest.fixture(scope="module", autouse=True)
def areas() -> None:
    _register_areas()


def run(stdin: str, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["availability", "predict", *args], input=stdin)
    return r.exit_code, r.stdout, r.stderr


def test_predict_writes_168_hours_of_week_with_probabilities() -> None:
    code, out, _ = run(EVENTS, "--at", AT, "--tz", "Europe/Berlin")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0] == "hour_of_week,p_home" and len(lines) == 169
    rows = [line.split(",") for line in lines[1:]]
    assert [int(h) for h, _ in rows] == list(range(168))
    assert all(0.0 <= float(p) <= 1.0 for _, p in rows)


def test_events_after_at_are_ignored() -> None:
    later = EVENTS + "2026-11-30T07:10:00Z,fridge\n"
    assert run(later, "--at", AT, "--tz", "Europe/Berlin")[1] == \
        run(EVENTS, "--at", AT, "--tz", "Europe/Berlin")[1]


@pytest.mark.parametrize(("stdin", "args", "message"), [
    ("time\n1\n", ["--at", AT, "--tz", "UTC"], "line 1: no 'timestamp' column"),
    ("", ["--at", AT, "--tz", "UTC"], "line 1: empty input"),
    ("timestamp\n1763280000\nyesterday\n", ["--at", AT, "--tz", "UTC"], "line 3:"),
    ("timestamp\n2026-11-16T07:10:00\n", ["--at", AT, "--tz", "UTC"],
     "line 2: '2026-11-16T07:10:00' has no time zone"),
    ("timestamp\n1\n", ["--at", "noon", "--tz", "UTC"], "--at: 'noon'"),
    ("timestamp\n1\n", ["--at", "2026-11-23T12:00:00", "--tz", "UTC"], "--at:"),
    ("timestamp\n1\n", ["--at", AT, "--tz", "Mars/Base"], "unknown time zone 'Mars/Base'"),
])
def test_bad_input_is_a_clear_error_without_a_traceback(stdin: str, args: list[str],
                                                       message: str) -> None:
    code, out, err = run(stdin, *args)
    assert code == 2 and message in err and "Traceback" not in err + out
