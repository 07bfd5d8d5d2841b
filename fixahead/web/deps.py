"""Dependencies of the API routes, as `Annotated` aliases: a pooled connection and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from fixahead.web.admission import admitted
from fixahead.web.auth import Principal, authenticate


def get_conn(request: Request, _: Annotated[None, Depends(admitted)]) -> Iterator[
        psycopg.Connection]:
    """A connection from the app's pool (autocommit) for the duration of a request, once the
    request holds a database slot (`admission`: waiting for one costs no thread)."""
    pool: ConnectionPool = request.app.state.pool
    with pool.connection() as conn:
        yield conn


ConnDep = Annotated[psycopg.Connection, Depends(get_conn)]
_bearer = HTTPBearer(auto_error=False, description="An API token: `fixahead devices token "
                     "create --role ROLE`")


def get_principal(conn: ConnDep, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """The caller of an API request; 401 without a valid token."""
    if credentials is None:
        raise HTTPException(401, "an API token is required (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    principal = authenticate(conn, credentials.credentials)
    if principal is None:
        raise HTTPException(401, "the API token is unknown or revoked",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def require(role: str):  # type: ignore[no-untyped-def]
    """A dependency that lets through callers with `role` or a higher one (else 403)."""
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.may(role):
            raise HTTPException(403, f"this needs the {role} role; the token has "
                                f"{principal.role}")
        return principal
    return check


ViewerDep = Annotated[Principal, Depends(require("viewer"))]
SchedulerDep = Annotated[Principal, Depends(require("scheduler"))]
AdminDep = Annotated[Principal, Depends(require("admin"))]
