"""PostgreSQL adapter for the registry: sync the catalog, register devices, load a snapshot."""

from __future__ import annotations

import psycopg

from devices.catalog import Model
from devices.registry import DeviceInfo, ModelInfo, RegistrySnapshot


def sync_catalog(conn: psycopg.Connection, models: dict[str, Model]) -> None:
    """Upsert models, metrics, error codes, their texts and catalog versions (one transaction)."""
    with conn.transaction():
        for m in models.values():
            conn.execute(
                """INSERT INTO models (model_id, kind, manufacturer, name, catalog_version)
                   VALUES (%s, %s, %s, %s, %s)
                   ON CONFLICT (model_id) DO UPDATE SET kind = EXCLUDED.kind,
                     manufacturer = EXCLUDED.manufacturer, name = EXCLUDED.name,
                     catalog_version = EXCLUDED.catalog_version, updated_at = now()""",
                (m.id, m.kind, m.manufacturer, m.name, m.catalog_version),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    """INSERT INTO model_metrics (model_id, metric_id, name, unit, valid_min,
                         valid_max, typical_min, typical_max, period_s, description)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                       ON CONFLICT (model_id, metric_id) DO UPDATE SET name = EXCLUDED.name,
                         unit = EXCLUDED.unit, valid_min = EXCLUDED.valid_min,
                         valid_max = EXCLUDED.valid_max, typical_min = EXCLUDED.typical_min,
                         typical_max = EXCLUDED.typical_max, period_s = EXCLUDED.period_s,
                         description = EXCLUDED.description""",
                    [(m.id, x.id, x.name, x.unit, x.valid[0], x.valid[1], x.typical[0],
                      x.typical[1], x.period_s, x.description) for x in m.metrics],
                )
                cur.executemany(
                    """INSERT INTO error_codes (model_id, code, title, meaning, severity,
                         customer_fixable, urgent, skill, parts, visit_minutes, since_version,
                         until_version)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                       ON CONFLICT (model_id, code) DO UPDATE SET title = EXCLUDED.title,
                         meaning = EXCLUDED.meaning, severity = EXCLUDED.severity,
                         customer_fixable = EXCLUDED.customer_fixable, urgent = EXCLUDED.urgent,
                         skill = EXCLUDED.skill, parts = EXCLUDED.parts,
                         visit_minutes = EXCLUDED.visit_minutes,
                         since_version = EXCLUDED.since_version,
                         until_version = EXCLUDED.until_version""",
                    [(m.id, c.code, c.title, c.meaning, c.severity, c.customer_fixable, c.urgent,
                      c.skill, list(c.parts), c.visit_minutes, c.since, c.until)
                     for c in m.codes],
                )
                cur.executemany(
                    """INSERT INTO error_code_texts (model_id, code, language, title, meaning,
                         steps, safety) VALUES (%s, %s, %s, %s, %s, %s, %s)
                       ON CONFLICT (model_id, code, language) DO UPDATE SET
                         title = EXCLUDED.title, meaning = EXCLUDED.meaning,
                         steps = EXCLUDED.steps, safety = EXCLUDED.safety""",
                    [(m.id, c.code, lang, t.title, t.meaning, list(t.steps), t.safety)
                     for c in m.codes for lang, t in c.texts],
                )
                cur.executemany(
                    """INSERT INTO model_catalogs (model_id, version, firmware_min,
                         firmware_max, codes) VALUES (%s, %s, %s, %s, %s)
                       ON CONFLICT (model_id, version) DO UPDATE SET
                         firmware_min = EXCLUDED.firmware_min,
                         firmware_max = EXCLUDED.firmware_max, codes = EXCLUDED.codes""",
                    [(m.id, k.version, k.firmware_min, k.firmware_max,
                      [c.code for c in k.codes]) for k in m.catalogs],
                )


def register_device(
    conn: psycopg.Connection, device_id: str, model_id: str, *, secret_hash: str | None = None
) -> int:
    """Register a device (or return the key of an existing one with that id)."""
    row = conn.execute(
        """INSERT INTO devices (device_id, model_id, secret_hash) VALUES (%s, %s, %s)
           ON CONFLICT (device_id) DO UPDATE SET device_id = EXCLUDED.device_id
           RETURNING id""",
        (device_id, model_id, secret_hash),
    ).fetchone()
    assert row is not None
    return int(row[0])


def load_registry(conn: psycopg.Connection) -> RegistrySnapshot:
    """Read devices, models, metrics and codes into a snapshot."""
    metric_ids: dict[str, dict[str, int]] = {}
    for model_id, name, metric_id in conn.execute(
        "SELECT model_id, name, metric_id FROM model_metrics"
    ):
        metric_ids.setdefault(model_id, {})[name] = metric_id
    codes: dict[str, dict[str, tuple[str, str]]] = {}
    for model_id, code, title, severity in conn.execute(
        "SELECT model_id, code, title, severity FROM error_codes"
    ):
        codes.setdefault(model_id, {})[code] = (title, severity)
    models = {
        model_id: ModelInfo(model_id, metric_ids.get(model_id, {}), codes.get(model_id, {}))
        for (model_id,) in conn.execute("SELECT model_id FROM models")
    }
    devices = {
        device_id: DeviceInfo(key, device_id, model_id, state == "revoked")
        for key, device_id, model_id, state in conn.execute(
            "SELECT id, device_id, model_id, state FROM devices"
        )
    }
    return RegistrySnapshot(devices, models)


def set_secret_hash(conn: psycopg.Connection, device_id: str, secret_hash: str) -> None:
    """Replace a device's credential hash (a re-provisioned device gets a new secret)."""
    conn.execute("UPDATE devices SET secret_hash = %s WHERE device_id = %s",
                 (secret_hash, device_id))


def record_statuses(conn: psycopg.Connection | psycopg.Cursor, statuses: dict[int, tuple],
                    last_seen: dict[int, int]) -> None:
    """Online/offline (key -> (online, at_ms)) and last-seen times (key -> at_ms) of devices,
    each only moving forward (ingest calls it in its batch's transaction)."""
    from datetime import UTC, datetime

    def dt(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)

    if statuses:
        keys = list(statuses)
        conn.execute(
            """UPDATE devices d SET online = u.online, status_at = u.at
               FROM unnest(%s::integer[], %s::boolean[], %s::timestamptz[]) AS u(id, online, at)
               WHERE d.id = u.id AND (d.status_at IS NULL OR d.status_at <= u.at)""",
            (keys, [statuses[k][0] for k in keys], [dt(statuses[k][1]) for k in keys]))
    if last_seen:
        keys = list(last_seen)
        # only move last_seen when it is a minute stale: keeps device rows from churning
        conn.execute(
            """UPDATE devices d SET last_seen = u.at
               FROM unnest(%s::integer[], %s::timestamptz[]) AS u(id, at)
               WHERE d.id = u.id
                 AND (d.last_seen IS NULL OR d.last_seen < u.at - INTERVAL '60 seconds')""",
            (keys, [dt(last_seen[k]) for k in keys]))
