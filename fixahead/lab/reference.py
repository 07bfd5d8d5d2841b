"""The reference run of a paired evaluation: the same scenario without trouble, kept apart.

The reference run plays the same seed and window as the run with trouble, so it provisions
the same devices: it needs its own database, data folder (ground truth, embedded services)
and topics. With a configured database, its sibling `<name>_ref` on the same server.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from fixahead.settings import Settings

SUFFIX = "_ref"


def sibling_database(url: str, suffix: str = SUFFIX) -> str:
    """The connection string of the database named like `url`'s plus `suffix`."""
    name = conninfo_to_dict(url).get("dbname")
    if not name:
        raise ValueError(f"the database URL {url!r} names no database; a paired evaluation "
                         "puts its reference run in a sibling one")
    return make_conninfo(url, dbname=f"{name}{suffix}")


def reference_settings(settings: Settings) -> Settings:
    """Settings for the reference run: the data folder's `reference` subfolder, topics under
    `<prefix>-ref`, and the sibling database (with a configured one)."""
    update: dict[str, object] = {"data_dir": settings.data_dir / "reference",
                                 "topic_prefix": f"{settings.topic_prefix}-ref"}
    if settings.database_url:
        update["database_url"] = sibling_database(settings.database_url)
    return settings.model_copy(update=update)


def ensure_database(url: str) -> bool:
    """Create the database `url` names when it does not exist (through the server's
    `postgres` database); whether it was created."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))
        return True
