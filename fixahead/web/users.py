"""People who log in: scrypt password hashes, users and server-side sessions (adapter).

A session id is 256 random bits; the cookie carries it signed (see `cookies`), the database
only its SHA-256, so a leaked table cannot be replayed as cookies. Each session has its own
CSRF token, which every form and htmx request must send back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

import psycopg

from devices.audit import audit
from fixahead.web.auth import ROLES

# scrypt cost: n=2**14, r=8 takes about 16 MiB and ~50 ms here: slow for guessing, fine per login
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class User:
    """A person who may log in, with a role."""

    user_id: int
    email: str
    role: str
    time_zone: str | None = None  # None: the app's default zone

    def may(self, role: str) -> bool:
        """Whether this person has `role` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"user:{self.user_id}:{self.email}"


@dataclass(frozen=True)
class Session:
    """A logged-in session: who, and the CSRF token of its forms."""

    user: User
    csrf_token: str


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$key`, all the parameters kept so they can change later."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                         dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a `hash_password` value (constant-time compare)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(base64.b64decode(key)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(key))


def add_user(conn: psycopg.Connection, *, email: str, role: str, password: str,
             actor: str) -> int:
    """Create a person's account (audited); the new id."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise ValueError("a user needs an email address")
    if len(password) < 10:
        raise ValueError("a password needs at least 10 characters")
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO web_users (email, role, password_hash) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (email.strip(), role, hash_password(password))).fetchone()
        if row is None:
            raise ValueError(f"a user with email {email!r} exists already")
        audit(conn, actor=actor, action="user.create", subject_type="user",
              subject_id=str(row[0]), detail={"role": role})
    return int(row[0])


# a hash to check against when the email is unknown, so both cases take the same time
_DUMMY = hash_password(secrets.token_hex(8))


def check_login(conn: psycopg.Connection, email: str, password: str) -> User | None:
    """The active user with this email and password, else None."""
    row = conn.execute("SELECT id, email, role, password_hash FROM web_users "
                       "WHERE lower(email) = lower(%s) AND active", (email.strip(),)).fetchone()
    if row is None:
        verify_password(password, _DUMMY)
        return None
    return User(row[0], row[1], row[2]) if verify_password(password, row[3]) else None


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(conn: psycopg.Connection, user: User, *, now: datetime) -> str:
    """Start a session for `user`; its id (goes into the signed cookie)."""
    session_id = secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("DELETE FROM web_sessions WHERE expires_at < %s", (now,))
        conn.execute("INSERT INTO web_sessions (id_hash, user_id, csrf_token, expires_at) "
                     "VALUES (%s, %s, %s, %s)",
                     (_id_hash(session_id), user.user_id, secrets.token_urlsafe(32),
                      now + SESSION_TTL))
        audit(conn, actor=user.actor, action="user.login", subject_type="user",
              subject_id=str(user.user_id))
    return session_id


def load_session(conn: psycopg.Connection, session_id: str, *, now: datetime) -> Session | None:
    """The live session with this id, else None."""
    row = conn.execute(
        """SELECT u.id, u.email, u.role, s.csrf_token, u.time_zone FROM web_sessions s
           JOIN web_users u ON u.id = s.user_id
           WHERE s.id_hash = %s AND s.expires_at > %s AND u.active""",
        (_id_hash(session_id), now)).fetchone()
    return None if row is None else Session(User(row[0], row[1], row[2], row[4]), row[3])


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted."""
    return tuple(sorted(available_timezones()))


def set_time_zone(conn: psycopg.Connection, user: User, time_zone: str) -> None:
    """Show this person's pages in `time_zone` (an IANA name; audited)."""
    if time_zone not in time_zones():
        raise ValueError(f"{time_zone!r} is not a time zone (for example Europe/Berlin)")
    with conn.transaction():
        conn.execute("UPDATE web_users SET time_zone = %s WHERE id = %s",
                     (time_zone, user.user_id))
        audit(conn, actor=user.actor, action="user.time_zone", subject_type="user",
              subject_id=str(user.user_id), detail={"time_zone": time_zone})


def close_session(conn: psycopg.Connection, session_id: str) -> None:
    """Log out: the session stops working at once."""
    conn.execute("DELETE FROM web_sessions WHERE id_hash = %s", (_id_hash(session_id),))
