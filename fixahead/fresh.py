"""`fixahead up`'s first-run decisions: start over (`--fresh`), or continue an earlier demo
instead of piling another fleet onto it."""

from __future__ import annotations

import shutil
from pathlib import Path

from fixahead.settings import Settings

# what the embedded services and the demo keep in the data directory
EMBEDDED_STATE = ("postgres", "mosquitto", "broker", "simulations", "demo-login")


def earlier_demos(data_dir: Path) -> list[Path]:
    """Ground-truth folders of demo fleets earlier runs published."""
    folder = data_dir / "simulations"
    return sorted(folder.glob("demo-*")) if folder.exists() else []


def start_fresh(settings: Settings) -> list[Path]:
    """Delete the embedded services' data and earlier demos; what was deleted.

    Refuses (ValueError) with a configured database or broker, which it never touches, and
    while an embedded PostgreSQL of this data directory still runs (another `up`)."""
    if settings.database_url or settings.mqtt_url:
        raise ValueError("--fresh clears only the embedded services' data; with "
                         "FIXAHEAD_DATABASE_URL or FIXAHEAD_MQTT_URL set, clear those yourself")
    pidfile = settings.data_dir / "postgres" / "postmaster.pid"
    if pidfile.exists():
        from fixahead.embedded_pg import EmbeddedPostgres

        pg = EmbeddedPostgres(settings.data_dir, settings.embedded_pg_port)
        if pg.running_port() is not None:
            raise ValueError(f"the embedded PostgreSQL in {pg.pgdata} is running (another "
                             "`fixahead up`?); stop it before --fresh")
    removed = []
    for name in EMBEDDED_STATE:
        path = settings.data_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(path)
    return removed
