"""Invoke a Typer app in-process, as the CLI tests do."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import typer
from typer.testing import CliRunner


def invoke(app: typer.Typer, args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `app` with `args` and `env`; (exit code, output).

    The CLI sets up logging on the runner's stderr, which closes after the call: the root
    logger is put back, or later log records from other threads would hit a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(app, list(args), env=env)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return result.exit_code, result.output
