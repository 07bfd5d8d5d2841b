"""API tokens and roles. A token is shown once; only its SHA-256 is stored.

Roles are ordered: admin can do what a scheduler can, a scheduler what a viewer can.
viewer: models, catalogs, devices (no personal data); scheduler: also customers and households;
admin: every change, exports, erasures and tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import psycopg

from devices.audit import audit

ROLES = ("viewer", "scheduler", "admin")
PREFIX = "fxa_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, name and role."""

    token_id: int
    name: str
    role: str

    def may(self, role: str) -> bool:
        """Whether this principal has `role` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"token:{self.token_id}:{self.name}"


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: psycopg.Connection, *, role: str, name: str, actor: str) -> str:
    """Mint a token with `role`; return it (the only time it is seen)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise ValueError("a token needs a name")
    token = PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO api_tokens (name, role, token_hash) VALUES (%s, %s, %s) RETURNING id",
            (name, role, token_hash(token))).fetchone()
        assert row is not None
        audit(conn, actor=actor, action="token.create", subject_type="token",
              subject_id=str(row[0]), detail={"role": role})
    return token


def revoke_token(conn: psycopg.Connection, token_id: int, *, actor: str) -> bool:
    """Revoke a token; False when there was no such active token."""
    with conn.transaction():
        cur = conn.execute("UPDATE api_tokens SET revoked_at = now() "
                           "WHERE id = %s AND revoked_at IS NULL", (token_id,))
        if cur.rowcount:
            audit(conn, actor=actor, action="token.revoke", subject_type="token",
                  subject_id=str(token_id))
    return bool(cur.rowcount)


def authenticate(conn: psycopg.Connection, token: str) -> Principal | None:
    """The principal of an active token, or None."""
    if not token.startswith(PREFIX):
        return None
    row = conn.execute("SELECT id, name, role FROM api_tokens "
                       "WHERE token_hash = %s AND revoked_at IS NULL",
                       (token_hash(token),)).fetchone()
    return None if row is None else Principal(*row)
