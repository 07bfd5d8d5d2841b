"""CLI command groups, one module per area; each exposes `register(app)`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def connection() -> Iterator[Any]:
    """An autocommit connection to the configured (or embedded) database, migrated."""
    import psycopg

    from fixahead.commands.common import load_cli_settings
    from fixahead.services import database, prepare_database

    with database(load_cli_settings()) as url:
        prepare_database(url)
        with psycopg.connect(url, autocommit=True) as conn:
            yield conn
