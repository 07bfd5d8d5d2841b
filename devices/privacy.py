"""Export everything held about a customer, and erase a customer. Both are audited.

Which tables hold what about a customer is discovered from the database itself, so tables
added by other areas are covered without changes here. A table is linked when it has
- a column `customer_id`, `household_id` or `device_id` (text), or `device` (integer key), or
- a single-column foreign key to `customers`, `households` or `devices`.
Erasure deletes the personal data and detaches telemetry: the customer's rows and every row
linked to the customer or a household are deleted; each device is re-keyed to an anonymous id,
taken out of its household and revoked, so its telemetry (keyed by the integer device key) stays
for fleet statistics but can no longer be linked to a person or an appliance serial.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from devices.audit import audit
from devices.customerstore import Conflict, NotFound

FORMAT = "fixahead-customer-export/1"
_OWN = {"customers", "households", "devices", "audit_log"}
# rows that are only noise once the device is anonymous, and may quote its old id in text
_DELETE_FOR_DEVICE = {"dead_letters"}
# credentials are not data about the customer and must never leave the database
_REDACT = ("secret_hash", "token_hash")


@dataclass(frozen=True)
class Link:
    """A column of a table that points at a customer, a household or a device."""

    table: str
    column: str
    target: str  # "customer", "household", "device_key" or "device_id"


_BY_NAME = {"customer_id": "customer", "household_id": "household", "device_id": "device_id",
            "device": "device_key"}
_BY_FK = {("customers", "customer_id"): "customer", ("households", "household_id"): "household",
          ("devices", "id"): "device_key", ("devices", "device_id"): "device_id"}


def discover_links(conn: psycopg.Connection) -> list[Link]:
    """Every (table, column) of the current schema referring to a customer, household or device."""
    tables = """SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
                  AND NOT c.relispartition"""
    found: set[Link] = set()
    for table, column, typ in conn.execute(
        f"""SELECT c.relname, a.attname, format_type(a.atttypid, NULL)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE a.attrelid IN ({tables}) AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname = ANY(%s)""", (list(_BY_NAME),)):
        target = _BY_NAME[column]
        if target == "device_key" and typ not in ("integer", "bigint"):
            continue
        if target != "device_key" and typ != "text":
            continue
        found.add(Link(table, column, target))
    for table, column, ref_table, ref_column in conn.execute(
        f"""SELECT c.relname, a.attname, r.relname, ra.attname
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            JOIN pg_class r ON r.oid = k.confrelid
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
            JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
            WHERE k.contype = 'f' AND array_length(k.conkey, 1) = 1
              AND k.conrelid IN ({tables})"""):
        fk_target = _BY_FK.get((ref_table, ref_column))
        if fk_target:
            found.add(Link(table, column, fk_target))
    found = {x for x in found if not (x.table == "customers" and x.target == "customer")}
    return sorted(found, key=lambda x: (x.table, x.column))


@dataclass(frozen=True)
class _Subject:
    customer_id: str
    households: list[str]
    device_keys: list[int]
    device_ids: list[str]

    def values(self, target: str) -> list[Any]:
        by_target: dict[str, list[Any]] = {
            "customer": [self.customer_id], "household": list(self.households),
            "device_key": list(self.device_keys), "device_id": list(self.device_ids)}
        return by_target[target]


def _subject(conn: psycopg.Connection, customer_id: str) -> _Subject:
    if conn.execute("SELECT 1 FROM customers WHERE customer_id = %s",
                    (customer_id,)).fetchone() is None:
        raise NotFound(f"customer {customer_id!r} does not exist")
    households = [h for (h,) in conn.execute(
        "SELECT household_id FROM households WHERE customer_id = %s ORDER BY 1", (customer_id,))]
    devices = conn.execute(
        "SELECT id, device_id FROM devices WHERE household_id = ANY(%s) ORDER BY id",
        (households,)).fetchall()
    return _Subject(customer_id, households, [d[0] for d in devices], [d[1] for d in devices])


def _rows(conn: psycopg.Connection, table: str, where: sql.Composable,
          params: list[Any]) -> list[Any]:
    query = sql.SQL("SELECT to_jsonb(t) FROM {} t WHERE ").format(sql.Identifier(table)) + where
    rows = [r for (r,) in conn.execute(query, params)]
    for row in rows:
        for key in _REDACT:
            row.pop(key, None)
    return rows


def export_customer(conn: psycopg.Connection, customer_id: str, *, actor: str) -> dict[str, Any]:
    """One JSON-able document with every row held about the customer, table by table."""
    with conn.transaction():
        subject = _subject(conn, customer_id)
        tables: dict[str, list[Any]] = {
            "customers": _rows(conn, "customers", sql.SQL("customer_id = %s"), [customer_id]),
        }
        for link in discover_links(conn):
            values = subject.values(link.target)
            if not values or link.table == "audit_log":
                continue
            where = sql.SQL("{} = ANY(%s)").format(sql.Identifier(link.column))
            rows = _rows(conn, link.table, where, [values])
            seen = {str(r) for r in tables.get(link.table, [])}
            tables.setdefault(link.table, []).extend(r for r in rows if str(r) not in seen)
        tables["audit_log"] = _rows(
            conn, "audit_log",
            sql.SQL("(subject_type = 'customer' AND subject_id = %s) OR (subject_type = "
                    "'household' AND subject_id = ANY(%s)) OR (subject_type = 'device' AND "
                    "subject_id = ANY(%s))"),
            [customer_id, subject.households, subject.device_ids])
        audit(conn, actor=actor, action="customer.export", subject_type="customer",
              subject_id=customer_id,
              detail={"tables": {k: len(v) for k, v in tables.items()}})
    return {"format": FORMAT, "customer_id": customer_id,
            "exported_at": datetime.now(UTC).isoformat(), "tables": tables}


def erase_customer(conn: psycopg.Connection, customer_id: str, *, actor: str) -> dict[str, Any]:
    """Delete the customer's personal data and detach their devices; return what was done."""
    with conn.transaction():
        subject = _subject(conn, customer_id)
        links = discover_links(conn)
        renamed = {old: f"erased-{secrets.token_hex(8)}" for old in subject.device_ids}
        # devices first: a foreign key to devices.device_id with ON UPDATE CASCADE follows
        # along; one without it makes the erasure fail as a whole rather than leave a link
        for old, new in renamed.items():
            conn.execute(
                """UPDATE devices SET device_id = %s, household_id = NULL, state = 'revoked',
                   secret_hash = NULL WHERE device_id = %s""", (new, old))
            conn.execute("UPDATE audit_log SET subject_id = %s "
                         "WHERE subject_type = 'device' AND subject_id = %s", (new, old))
        doomed = []
        for link in links:
            if link.table in _OWN or not subject.values(link.target):
                continue
            if link.target in ("customer", "household") or link.table in _DELETE_FOR_DEVICE:
                doomed.append(link)
            elif link.target == "device_id":
                ident, col = sql.Identifier(link.table), sql.Identifier(link.column)
                for old, new in renamed.items():
                    conn.execute(sql.SQL("UPDATE {} SET {} = %s WHERE {} = %s").format(
                        ident, col, col), [new, old])
        deleted = _delete_in_dependency_order(conn, doomed, subject)
        # the audit trail stays, but no record may tie a device to the erased households
        conn.execute("UPDATE audit_log SET detail = detail - 'household_id' "
                     "WHERE detail->>'household_id' = ANY(%s)", (subject.households,))
        for household in subject.households:
            conn.execute("UPDATE audit_log SET subject_id = %s WHERE subject_type = "
                         "'household' AND subject_id = %s",
                         (f"erased-{secrets.token_hex(8)}", household))
        conn.execute("DELETE FROM customers WHERE customer_id = %s", (customer_id,))
        summary = {"households": len(subject.households), "devices_detached": len(renamed),
                   "deleted_rows": deleted}
        audit(conn, actor=actor, action="customer.erase", subject_type="customer",
              subject_id=customer_id, detail=summary)
    return summary


def _delete_in_dependency_order(conn: psycopg.Connection, links: list[Link],
                                subject: _Subject) -> dict[str, int]:
    """Delete the linked rows; a table whose rows others still reference waits a pass."""
    deleted: dict[str, int] = {}
    pending = list(links)
    while pending:
        blocked: list[Link] = []
        for link in pending:
            query = sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                sql.Identifier(link.table), sql.Identifier(link.column))
            try:
                with conn.transaction():  # a savepoint: a blocked delete undoes only itself
                    cur = conn.execute(query, [subject.values(link.target)])
            except psycopg.errors.ForeignKeyViolation:
                blocked.append(link)
                continue
            deleted[link.table] = deleted.get(link.table, 0) + cur.rowcount
        if len(blocked) == len(pending):
            names = ", ".join(f"{x.table}.{x.column}" for x in blocked)
            raise Conflict(f"cannot erase: rows of {names} are referenced by rows that "
                               "are not linked to the customer")
        pending = blocked
    return deleted
