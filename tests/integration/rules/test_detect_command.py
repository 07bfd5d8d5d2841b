"""`fixahead detect` as a process: CSV in on stdin, CSV out on stdout, errors on stderr."""

from __future__ import annotations

import subprocess
import sys

import numpy as np


def _run(text: str) -> subprocess.CompletedProcess[str]:
    code = "from fixahead.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, "detect"], input=text,
                          capture_output=True, text=True, timeout=60, check=False)


def test_detect_command_scores_every_row_in_order() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0, 1, 600)
    values[500] = 12
    rows = "".join(f"2020-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z,{v}\n"
                   for i, v in enumerate(values))
    done = _run("timestamp,value\n" + rows)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "timestamp,anomaly_score"
    assert len(lines) == 601
    scores = np.array([float(line.split(",")[1]) for line in lines[1:]])
    assert int(np.argmax(scores)) == 500


def test_detect_command_names_the_bad_line_and_fails() -> None:
    done = _run("timestamp,value\n1,1\n2,oops\n")
    assert done.returncode == 2
    assert "line 3" in done.stderr and "oops" in done.stderr
    assert done.stdout == ""
