"""The audit trail of a subject (admin): who registered, rotated, exported, erased what."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from devices.audit import audit_trail
from fixahead.web.deps import AdminDep, ConnDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def get_trail(conn: ConnDep, _: AdminDep,
              subject_type: Annotated[Literal["customer", "household", "device", "token",
                                              "import"], Query()],
              subject_id: Annotated[str, Query(min_length=1)]) -> list[dict[str, Any]]:
    """The audit records of one subject, oldest first."""
    return audit_trail(conn, subject_type, subject_id)
