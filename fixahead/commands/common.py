"""What the CLI and its command areas share: settings loading and the stop event.

`fixahead.cli` and every `fixahead.commands.*` module import these from here, never from
each other (no import circle through the CLI's private helpers).
"""

from __future__ import annotations

import logging
import signal
import threading

import typer

from fixahead.logs import setup_logging
from fixahead.settings import Settings, load_settings

log = logging.getLogger("fixahead")


def load_cli_settings() -> Settings:
    """Settings from the environment, with logging set up; bad settings are a usage error."""
    try:
        settings = load_settings()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    setup_logging(settings.log_level, settings.log_json)
    return settings


def stop_event() -> threading.Event:
    """An event set by SIGINT or SIGTERM: long-running commands stop when it is set."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop
