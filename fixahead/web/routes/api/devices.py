"""Devices: list and show (any role); register, bulk import, rotate, revoke (admin)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query

from devices import provisioning
from fixahead.web.deps import AdminDep, ConnDep, ViewerDep
from fixahead.web.schemas import DeviceIn, DeviceOut, DeviceSecretOut, ImportOut

router = APIRouter(prefix="/devices", tags=["devices"])


def _out(record: provisioning.DeviceRecord) -> DeviceOut:
    return DeviceOut(**asdict(record))


@router.get("")
def list_devices(conn: ConnDep, _: ViewerDep, household_id: str | None = None,
                 model_id: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: Annotated[int, Query(ge=0)] = 0) -> list[DeviceOut]:
    """Devices in id order, optionally of one household or model."""
    return [_out(d) for d in provisioning.list_devices(
        conn, household_id=household_id, model_id=model_id, limit=limit, offset=offset)]


@router.post("", status_code=201)
def register_device(body: DeviceIn, conn: ConnDep, who: AdminDep) -> DeviceSecretOut:
    """Register a device; the response holds its secret, the only time it is shown."""
    record, secret = provisioning.register(
        conn, model_id=body.model_id, device_id=body.device_id, firmware=body.firmware,
        household_id=body.household_id, actor=who.actor)
    return DeviceSecretOut(device=_out(record), secret=secret)


@router.post("/import", status_code=201, openapi_extra={
    "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}})
def import_devices(conn: ConnDep, who: AdminDep,
                   body: Annotated[bytes, Body(media_type="text/csv")]) -> ImportOut:
    """Register every device of a CSV (device_id,model[,firmware,household_id]) or none.

    A file with any bad row imports nothing; the 422 answer lists every bad row.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(422, "the CSV must be UTF-8") from None
    result = provisioning.import_csv(conn, text, actor=who.actor)
    if not result.ok:
        raise HTTPException(422, [{"line": e.line, "field": e.field, "message": e.message}
                                  for e in result.errors])
    return ImportOut(imported=len(result.secrets), secrets=result.secrets)


@router.get("/{device_id}")
def get_device(device_id: str, conn: ConnDep, _: ViewerDep) -> DeviceOut:
    """One device (never its secret)."""
    return _out(provisioning.get_device(conn, device_id))


@router.post("/{device_id}/rotate")
def rotate(device_id: str, conn: ConnDep, who: AdminDep) -> DeviceSecretOut:
    """A new secret for the device, shown once; the broker files must be regenerated."""
    secret = provisioning.rotate(conn, device_id, actor=who.actor)
    return DeviceSecretOut(device=_out(provisioning.get_device(conn, device_id)), secret=secret)


@router.post("/{device_id}/revoke")
def revoke(device_id: str, conn: ConnDep, who: AdminDep) -> DeviceOut:
    """Revoke the device: its secret is deleted and ingest rejects its messages."""
    return _out(provisioning.revoke(conn, device_id, actor=who.actor))
