"""Register, bulk-import, rotate and revoke devices; each secret is returned once, stored hashed.

PostgreSQL adapter over the pure pieces (`credentials`, `bulkcsv`). Every change is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from devices.audit import audit
from devices.bulkcsv import DeviceRow, RowError, parse_devices_csv
from devices.credentials import hash_secret, new_secret
from devices.customerstore import Conflict, NotFound
from devices.topics import DEVICE_ID

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DeviceRecord:
    """A registered device as the registry holds it (never with its secret)."""

    key: int
    device_id: str
    model_id: str
    firmware: str
    state: str
    household_id: str | None
    online: bool | None
    last_seen: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class ImportResult:
    """Outcome of a bulk import: the new secrets (only when nothing failed) or the errors."""

    secrets: dict[str, str]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        """Whether the file was imported (all of it)."""
        return not self.errors


_SELECT = """SELECT id AS key, device_id, model_id, firmware, state, household_id, online,
                    last_seen, created_at FROM devices"""


def get_device(conn: psycopg.Connection, device_id: str) -> DeviceRecord:
    """A device by id; NotFound when it is not registered."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE device_id = %s", (device_id,)).fetchone()
    if row is None:
        raise NotFound(f"device {device_id!r} is not registered")
    return DeviceRecord(**row)


def list_devices(conn: psycopg.Connection, *, household_id: str | None = None,
                 model_id: str | None = None, limit: int = 100,
                 offset: int = 0) -> list[DeviceRecord]:
    """Devices in id order, optionally of one household or model."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _SELECT + """ WHERE (%(h)s::text IS NULL OR household_id = %(h)s)
                            AND (%(m)s::text IS NULL OR model_id = %(m)s)
                          ORDER BY device_id LIMIT %(l)s OFFSET %(o)s""",
            {"h": household_id, "m": model_id, "l": limit, "o": offset}).fetchall()
    return [DeviceRecord(**r) for r in rows]


def register(conn: psycopg.Connection, *, model_id: str, actor: str,
             device_id: str | None = None, firmware: str = "",
             household_id: str | None = None) -> tuple[DeviceRecord, str]:
    """Register one device; return it and its secret (the only time the secret is seen)."""
    device_id = device_id or f"{model_id.lower()}-{secrets.token_hex(6)}"
    models = {m for (m,) in conn.execute("SELECT model_id FROM models")}
    households = None if household_id is None else [household_id]
    existing = [] if conn.execute("SELECT 1 FROM devices WHERE device_id = %s",
                                  (device_id,)).fetchone() is None else [device_id]
    rows, errors = parse_devices_csv(
        _one_row(device_id, model_id, firmware, household_id), models=models,
        existing=existing, households=_known_households(conn, households))
    if errors:
        error = errors[0]
        if error.field == "household_id":
            raise NotFound(error.message)
        raise (Conflict if "registered already" in error.message else ValueError)(
            f"{error.field}: {error.message}")
    secret = new_secret()
    try:
        with conn.transaction():
            _insert(conn, rows, [hash_secret(secret)])
            audit(conn, actor=actor, action="device.register", subject_type="device",
                  subject_id=device_id, detail={"model": model_id})
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"device_id: {device_id!r} is registered already") from None
    return get_device(conn, device_id), secret


def import_csv(conn: psycopg.Connection, text: str, *, actor: str,
               progress: Progress | None = None) -> ImportResult:
    """Register every device of a CSV file, or none when any row is bad (per-row report)."""
    models = {m for (m,) in conn.execute("SELECT model_id FROM models")}
    # first pass without the database, then look up only the ids the file names (a registry
    # of millions is never loaded to check a file of thousands)
    rows, _ = parse_devices_csv(text, models=models)
    ids = [r.device_id for r in rows]
    existing = {d for (d,) in conn.execute(
        "SELECT device_id FROM devices WHERE device_id = ANY(%s)", (ids,))}
    households = _known_households(conn, sorted({r.household_id for r in rows
                                                 if r.household_id}))
    rows, errors = parse_devices_csv(text, models=models, existing=existing,
                                     households=households)
    if errors:
        return ImportResult({}, errors)
    plain: dict[str, str] = {}
    hashes: list[str] = []
    for n, row in enumerate(rows, start=1):
        plain[row.device_id] = new_secret()
        hashes.append(hash_secret(plain[row.device_id]))
        if progress and (n % 100 == 0 or n == len(rows)):
            progress(n, len(rows))
    try:
        with conn.transaction():
            _insert(conn, rows, hashes)
            audit(conn, actor=actor, action="device.bulk_import", subject_type="import",
                  subject_id=hashlib.sha256(text.encode()).hexdigest()[:16],
                  detail={"devices": len(rows)})
    except psycopg.errors.UniqueViolation:
        return ImportResult({}, [RowError(0, "device_id", "a device in the file was registered "
                                          "by someone else meanwhile; nothing was imported")])
    return ImportResult(plain, [])


def rotate(conn: psycopg.Connection, device_id: str, *, actor: str) -> str:
    """Give a device a new secret (the old one stops working at the next broker reload)."""
    secret = new_secret()
    with conn.transaction():
        cur = conn.execute("UPDATE devices SET secret_hash = %s WHERE device_id = %s "
                           "AND state = 'active'", (hash_secret(secret), device_id))
        if cur.rowcount == 0:
            get_device(conn, device_id)  # NotFound for an unknown device
            raise Conflict(f"device {device_id!r} is revoked; register it again")
        audit(conn, actor=actor, action="device.rotate", subject_type="device",
              subject_id=device_id)
    return secret


def revoke(conn: psycopg.Connection, device_id: str, *, actor: str) -> DeviceRecord:
    """Revoke a device: its secret is deleted and ingest rejects its messages."""
    with conn.transaction():
        cur = conn.execute("UPDATE devices SET state = 'revoked', secret_hash = NULL "
                           "WHERE device_id = %s", (device_id,))
        if cur.rowcount == 0:
            raise NotFound(f"device {device_id!r} is not registered")
        audit(conn, actor=actor, action="device.revoke", subject_type="device",
              subject_id=device_id)
    return get_device(conn, device_id)


def provision_fleet(conn: psycopg.Connection, devices: list[tuple[str, str]]) -> dict[str, str]:
    """Register (device id, model id) pairs with fresh secrets, re-keying the ones that exist,
    in one transaction; the secrets by device id. For simulated fleets and demos: not audited
    per device, unlike `register`."""
    from devices.store import register_device, set_secret_hash

    secrets = {device_id: new_secret() for device_id, _ in devices}
    with conn.transaction():
        for device_id, model_id in devices:
            digest = hash_secret(secrets[device_id])
            register_device(conn, device_id, model_id, secret_hash=digest)
            set_secret_hash(conn, device_id, digest)
    return secrets


def _one_row(device_id: str, model_id: str, firmware: str, household_id: str | None) -> str:
    if not DEVICE_ID.match(device_id):
        raise ValueError(f"device_id {device_id!r} must be 1-64 of A-Z a-z 0-9 _ -")
    for value in (model_id, firmware, household_id or ""):
        if any(ch in value for ch in ',"\n\r'):
            raise ValueError(f"{value!r} contains a character not allowed in ids")
    return f"device_id,model,firmware,household_id\n{device_id},{model_id},{firmware}," \
           f"{household_id or ''}\n"


def _known_households(conn: psycopg.Connection, ids: list[str] | None) -> set[str] | None:
    if ids is None:
        return None
    return {h for (h,) in conn.execute(
        "SELECT household_id FROM households WHERE household_id = ANY(%s)", (ids,))}


def _insert(conn: psycopg.Connection, rows: list[DeviceRow], hashes: list[str]) -> None:
    with conn.cursor() as cur, cur.copy(
        "COPY devices (device_id, model_id, firmware, secret_hash, household_id) FROM STDIN"
    ) as copy:
        for row, stored in zip(rows, hashes, strict=True):
            copy.write_row((row.device_id, row.model_id, row.firmware, stored, row.household_id))
