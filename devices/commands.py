"""Commands to a device and its replies: message types and JSON codecs. No I/O.

The platform publishes a `Command` on `<prefix>/<device_id>/commands`; the device answers on
`<prefix>/<device_id>/replies`, first with an `ack` (it received the command), then with a
`result` (the snapshot or the self-test outcome), both carrying the command's request id.
A command carries its expiry: a device that receives it later answers `status: "expired"`.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_REPLY_BYTES = 32768


class CommandKind(StrEnum):
    """What the platform asks a device to do."""

    DIAGNOSTICS_SNAPSHOT = "diagnostics_snapshot"
    SELF_TEST = "self_test"


class ReplyType(StrEnum):
    """A device's answer: first the receipt, then the result."""

    ACK = "ack"
    RESULT = "result"


class ReplyStatus(StrEnum):
    """How a result turned out."""

    OK = "ok"
    FAILED = "failed"  # the device tried and could not (the result says why)
    EXPIRED = "expired"  # the command arrived after its expiry: not carried out
    UNSUPPORTED = "unsupported"  # the device does not know this kind


class CommandError(ValueError):
    """A command or reply that breaks the protocol; `reason` is machine-readable."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def new_request_id() -> str:
    """A fresh random request id (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def _check_id(request_id: object) -> str:
    if not isinstance(request_id, str) or not REQUEST_ID.match(request_id):
        raise CommandError("bad_schema", f"id: must match {REQUEST_ID.pattern}")
    return request_id


def _int(doc: dict[str, Any], key: str) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise CommandError("bad_schema", f"{key}: must be epoch milliseconds (integer)")
    return value


@dataclass(frozen=True)
class Command:
    """A request to one device: id, kind, when it was issued and until when it is valid."""

    request_id: str
    kind: CommandKind
    issued_ms: int
    expires_ms: int

    def __post_init__(self) -> None:
        _check_id(self.request_id)
        object.__setattr__(self, "kind", CommandKind(self.kind))
        if self.expires_ms <= self.issued_ms:
            raise ValueError("a command must expire after it was issued")

    def expired(self, now_ms: int) -> bool:
        """Whether the command is past its expiry at `now_ms`."""
        return now_ms >= self.expires_ms


@dataclass(frozen=True)
class Reply:
    """A device's ack of receipt, or its result for a request."""

    request_id: str
    type: ReplyType
    ts_ms: int
    status: ReplyStatus | None = None  # results only
    result: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_id(self.request_id)
        object.__setattr__(self, "type", ReplyType(self.type))
        if self.type is ReplyType.RESULT:
            object.__setattr__(self, "status", ReplyStatus(self.status or "ok"))
        elif self.status is not None or self.result:
            raise ValueError("an ack carries no status or result")


def encode_command(cmd: Command) -> bytes:
    """A command as JSON."""
    return orjson.dumps({"id": cmd.request_id, "kind": cmd.kind.value, "issued": cmd.issued_ms,
                         "expires": cmd.expires_ms})


def _object(payload: bytes, limit: int) -> dict[str, Any]:
    if len(payload) > limit:
        raise CommandError("oversized", f"{len(payload)} bytes > {limit}")
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise CommandError("bad_json", str(exc)) from None
    if not isinstance(doc, dict):
        raise CommandError("bad_schema", "the message must be a JSON object")
    return doc


def decode_command(payload: bytes) -> Command:
    """Parse a command; unknown kinds raise `CommandError('unsupported', ...)` after the id
    was read, so a device can still answer `unsupported` (see `peek_request_id`)."""
    doc = _object(payload, 4096)
    request_id = _check_id(doc.get("id"))
    kind = doc.get("kind")
    if kind not in tuple(CommandKind):
        raise CommandError("unsupported", f"kind: {kind!r} is not one of "
                           f"{', '.join(CommandKind)} (request {request_id})")
    issued, expires = _int(doc, "issued"), _int(doc, "expires")
    if expires <= issued:
        raise CommandError("bad_schema", "expires: must be after issued")
    return Command(request_id, CommandKind(kind), issued, expires)


def peek_request_id(payload: bytes) -> str | None:
    """The request id of a command that failed to decode, when it has a valid one."""
    try:
        return _check_id(_object(payload, 4096).get("id"))
    except CommandError:
        return None


def _finite(value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise CommandError("non_finite", f"{where}: NaN and infinities are not JSON values")
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _finite(v, f"{where}[{i}]")


def encode_reply(reply: Reply) -> bytes:
    """A reply as JSON."""
    doc: dict[str, Any] = {"id": reply.request_id, "type": reply.type.value, "ts": reply.ts_ms}
    if reply.type is ReplyType.RESULT:
        assert reply.status is not None
        doc["status"] = reply.status.value
        doc["result"] = reply.result
    return orjson.dumps(doc)


def decode_reply(payload: bytes) -> Reply:
    """Parse and validate a device's reply."""
    doc = _object(payload, MAX_REPLY_BYTES)
    request_id = _check_id(doc.get("id"))
    kind = doc.get("type")
    if kind not in tuple(ReplyType):
        raise CommandError("bad_schema", f"type: {kind!r} is not ack or result")
    ts = _int(doc, "ts")
    if kind == ReplyType.ACK:
        return Reply(request_id, ReplyType.ACK, ts)
    status = doc.get("status", "ok")
    if status not in tuple(ReplyStatus):
        raise CommandError("bad_schema", f"status: {status!r} is not one of "
                           f"{', '.join(ReplyStatus)}")
    result = doc.get("result", {})
    if not isinstance(result, dict):
        raise CommandError("bad_schema", "result: must be an object")
    _finite(result, "result")
    return Reply(request_id, ReplyType.RESULT, ts, ReplyStatus(status), result)


def ack(cmd: Command, now_ms: int) -> Reply:
    """The receipt a device sends for `cmd`."""
    return Reply(cmd.request_id, ReplyType.ACK, now_ms)


def result(cmd: Command, now_ms: int, status: ReplyStatus | str,
           body: dict[str, Any] | None = None) -> Reply:
    """A device's result for `cmd`."""
    return Reply(cmd.request_id, ReplyType.RESULT, now_ms, ReplyStatus(status), body or {})
