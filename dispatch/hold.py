"""PostgreSQL adapter of the storm guard: openings wait in `dispatch_holds` before dispatch.

`offer` records an opening; `step` links storms into fleet incidents, clears storms whose
device incidents all closed (dropping their held emails), and hands settled openings to
`decide` within the hourly cap; `release` is the operator's word. All in platform time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from dispatch.ports import Ports
from dispatch.storm import StormConfig, capacity, storm_start

CLOSED = ("resolved", "auto_cleared")


@dataclass(frozen=True)
class Held:
    """An opening waiting for dispatch."""

    incident_id: str
    device_id: str
    model_id: str
    fault: str
    at: datetime


Decide = Callable[[Held, datetime], None]
_COLS = "incident_id, device_id, model_id, fault, at"


def _ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)


def offer(conn: psycopg.Connection, h: Held) -> None:
    """Record an opening (once per incident)."""
    conn.execute(f"INSERT INTO dispatch_holds ({_COLS}) VALUES (%s, %s, %s, %s, %s) "
                 "ON CONFLICT (incident_id) DO NOTHING",
                 (h.incident_id, h.device_id, h.model_id, h.fault, h.at))


def _fleet_sizes(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT model_id, count(*) FROM devices GROUP BY 1").fetchall())


def _link_storms(conn: psycopg.Connection, cfg: StormConfig, now: datetime) -> None:
    rows = conn.execute(f"SELECT {_COLS} FROM dispatch_holds WHERE state = 'settling'"
                        ).fetchall()
    groups: dict[tuple[str, str], list[Held]] = defaultdict(list)
    for r in rows:
        groups[(r[2], r[3])].append(Held(*r))
    sizes = _fleet_sizes(conn) if groups else {}
    window = timedelta(milliseconds=cfg.window_ms)
    for (model, fault), held in groups.items():
        fleet = conn.execute("SELECT key, last_at FROM fleet_incidents WHERE model_id = %s "
                             "AND fault = %s AND state = 'open'", (model, fault)).fetchone()
        if fleet is not None:
            members = [h for h in held if h.at >= fleet[1] - window]
            key = fleet[0]
        else:
            start = storm_start([_ms(h.at) for h in held], sizes.get(model, 0), cfg)
            if start is None:
                continue
            key = f"fleet:{model}:{fault}:{start}"
            members = [h for h in held if _ms(h.at) >= start]
            conn.execute("INSERT INTO fleet_incidents (key, model_id, fault, opened_at, last_at)"
                         " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                         (key, model, fault, min(h.at for h in members), now))
        if not members:
            continue
        conn.execute("UPDATE dispatch_holds SET state = 'storm', fleet_key = %s "
                     "WHERE incident_id = ANY(%s)", (key, [h.incident_id for h in members]))
        conn.execute("UPDATE fleet_incidents SET last_at = greatest(last_at, %s), devices = "
                     "(SELECT count(*) FROM dispatch_holds WHERE fleet_key = %s) WHERE key = %s",
                     (max(h.at for h in members), key, key))


def _still_open(conn: psycopg.Connection, incident_ids: list[str], ports: Ports) -> set[str]:
    """Those of these incidents that exist and have not closed (rules says, through ports)."""
    states = ports.incident_states(conn, incident_ids)
    return {k for k in incident_ids if k in states and states[k] not in CLOSED}


def _clear_storms(conn: psycopg.Connection, cfg: StormConfig, now: datetime,
                  ports: Ports) -> None:
    """An open storm whose device incidents all closed, quiet for a window, clears itself."""
    quiet = now - timedelta(milliseconds=cfg.window_ms)
    held = conn.execute(
        """SELECT f.key, h.incident_id FROM fleet_incidents f
           LEFT JOIN dispatch_holds h ON h.fleet_key = f.key AND h.state = 'storm'
           WHERE f.state = 'open' AND f.last_at < %s""", (quiet,)).fetchall()
    still = _still_open(conn, [i for _, i in held if i is not None], ports)
    waiting = {key for key, i in held if i in still}
    keys = sorted({key for key, _ in held} - waiting)
    if keys:
        conn.execute("UPDATE fleet_incidents SET state = 'cleared', closed_at = %s "
                     "WHERE key = ANY(%s)", (now, keys))
        conn.execute("UPDATE dispatch_holds SET state = 'dropped', decided_at = %s "
                     "WHERE fleet_key = ANY(%s) AND state = 'storm'", (now, keys))


def _dispatch(conn: psycopg.Connection, rows: list[Held], cfg: StormConfig, now: datetime,
              decide: Decide) -> int:
    """Decide on `rows` within the hourly cap; the rest wait as 'capped'. How many went."""
    done = conn.execute("SELECT count(*) FROM dispatch_holds WHERE state = 'dispatched' "
                        "AND decided_at > %s", (now - timedelta(hours=1),)).fetchone()
    room = capacity(int(done[0]) if done else 0, cfg)
    for h in rows[:room]:
        decide(h, now)
        conn.execute("UPDATE dispatch_holds SET state = 'dispatched', decided_at = %s "
                     "WHERE incident_id = %s", (now, h.incident_id))
    if rows[room:]:
        conn.execute("UPDATE dispatch_holds SET state = 'capped' WHERE incident_id = ANY(%s)",
                     ([h.incident_id for h in rows[room:]],))
    return min(room, len(rows))


def step(conn: psycopg.Connection, cfg: StormConfig, now: datetime, decide: Decide,
         ports: Ports) -> int:
    """Link storms, clear settled ones, dispatch what settled (capped first); how many."""
    now = now.astimezone(UTC)
    _link_storms(conn, cfg, now)
    _clear_storms(conn, cfg, now, ports)
    settled = now - timedelta(milliseconds=cfg.settle_ms)
    rows = [Held(*r) for r in conn.execute(
        f"""SELECT {_COLS} FROM dispatch_holds WHERE state = 'capped'
                OR (state = 'settling' AND at <= %s)
            ORDER BY state = 'settling', at""", (settled,)).fetchall()]
    return _dispatch(conn, rows, cfg, now, decide) if rows else 0


def release(conn: psycopg.Connection, fleet_key: str, now: datetime, cfg: StormConfig,
            decide: Decide, ports: Ports) -> int:
    """An operator releases an open storm: its held openings whose incident is still open
    are dispatched (within the cap), the rest dropped. How many were dispatched (0 when
    `fleet_key` is not an open fleet incident)."""
    if conn.execute("UPDATE fleet_incidents SET state = 'released', closed_at = %s "
                    "WHERE key = %s AND state = 'open' RETURNING key", (now, fleet_key)
                    ).fetchone() is None:
        return 0  # unknown, cleared or released already (a second click)
    held = [r[0] for r in conn.execute(
        "SELECT incident_id FROM dispatch_holds WHERE fleet_key = %s AND state = 'storm'",
        (fleet_key,)).fetchall()]
    states = ports.incident_states(conn, held)
    closed = [k for k in held if states.get(k) in CLOSED]
    conn.execute("""UPDATE dispatch_holds SET state = 'dropped', decided_at = %s
                    WHERE fleet_key = %s AND state = 'storm' AND incident_id = ANY(%s)""",
                 (now, fleet_key, closed))
    rows = [Held(*r) for r in conn.execute(
        f"SELECT {_COLS} FROM dispatch_holds WHERE fleet_key = %s AND state = 'storm' "
        "ORDER BY at", (fleet_key,)).fetchall()]
    return _dispatch(conn, rows, cfg, now, decide)


def summary(conn: psycopg.Connection) -> dict[str, object]:
    """Holds by state and the open fleet incidents, for the CLI and metrics."""
    states = dict(conn.execute("SELECT state, count(*) FROM dispatch_holds GROUP BY 1"
                               ).fetchall())
    fleets = conn.execute("SELECT key, model_id, fault, devices, state, opened_at "
                          "FROM fleet_incidents ORDER BY opened_at DESC LIMIT 50").fetchall()
    return {"holds": states, "fleet_incidents": [
        {"key": k, "model": m, "fault": f, "devices": n, "state": s, "opened_at": o.isoformat()}
        for k, m, f, n, s, o in fleets]}


@dataclass(frozen=True)
class FleetIncident:
    """A fleet incident as operators see it: `held` is how many customer emails wait."""

    key: str
    model_id: str
    fault: str
    opened_at: datetime
    devices: int
    held: int
    state: str


@dataclass(frozen=True)
class HoldCounts:
    """What the guard holds now: emails held by open storms, open fleet incidents (and how
    many of them hold emails), and openings waiting for the hourly cap."""

    held: int
    open_fleets: int
    holding_fleets: int
    capped: int


def fleet_incidents(conn: psycopg.Connection, *, limit: int = 100) -> list[FleetIncident]:
    """Fleet incidents, open ones first, then newest first."""
    rows = conn.execute(
        """SELECT f.key, f.model_id, f.fault, f.opened_at, f.devices,
                  (SELECT count(*) FROM dispatch_holds h
                    WHERE h.fleet_key = f.key AND h.state = 'storm'), f.state
             FROM fleet_incidents f
            ORDER BY f.state <> 'open', f.opened_at DESC LIMIT %s""", (limit,)).fetchall()
    return [FleetIncident(*r) for r in rows]


def counts(conn: psycopg.Connection) -> HoldCounts:
    """Held and capped openings and open fleet incidents, now."""
    row = conn.execute(
        """SELECT count(*) FILTER (WHERE state = 'storm'),
                  count(DISTINCT fleet_key) FILTER (WHERE state = 'storm'),
                  count(*) FILTER (WHERE state = 'capped'),
                  (SELECT count(*) FROM fleet_incidents WHERE state = 'open')
             FROM dispatch_holds WHERE state IN ('storm', 'capped')""").fetchone()
    held, holding, capped, fleets = row if row is not None else (0, 0, 0, 0)
    return HoldCounts(held=int(held), open_fleets=int(fleets), holding_fleets=int(holding),
                      capped=int(capped))


def lock_fleet(conn: psycopg.Connection, fleet_key: str) -> str | None:
    """The fleet incident's state, its row locked to the end of the caller's transaction (so
    two releases at once are one); None when there is no such fleet incident."""
    row = conn.execute("SELECT state FROM fleet_incidents WHERE key = %s FOR UPDATE",
                       (fleet_key,)).fetchone()
    return None if row is None else str(row[0])
