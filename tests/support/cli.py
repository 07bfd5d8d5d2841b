"""Invoke a Typer app in-process, as the CLI tests do."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence

import typer
from typer.testing import CliRunner


def invoke(app: typer.Typer, args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `app` with `args` and `env`; (exit code, output).

    The CLI sets up logging on the runner's stderr, which closes after the call: the root
    logger is put back, or later log records from other threads would hit a closed stream.
    Unless `env` names one, the CLI gets an empty data directory of its own: what a `fixahead
    up` left in the machine's default one (a local broker's control URL) is not the test's."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    own = None if "FIXAHEAD_DATA_DIR" in env else tempfile.mkdtemp(prefix="fx-cli-")
    try:
        result = CliRunner().invoke(app, list(args),
                                    env={**env, **({"FIXAHEAD_DATA_DIR": own} if own else {})})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        if own:
            shutil.rmtree(own, ignore_errors=True)
    return result.exit_code, result.output
