"""How a dead letter is shown: its payload as escaped text, or as a hex dump when it is binary,
and who may see it.

A dead letter's payload and detail are whatever a device sent, unvalidated (that is why it was
refused): a faulty or hostile firmware can put free text in it (a network name, a label typed
into the appliance), so only schedulers and admins, who may see personal data, see them.
Viewers see the rest: when, which device and topic, the reason and the size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest import StoredDeadLetter

PREVIEW_BYTES = 256
HEX_ROW = 16
_TEXT_CONTROLS = {"\t", "\n", "\r"}


@dataclass(frozen=True)
class PayloadView:
    """A payload for display: `kind` "text" (escaped) or "binary" (hex dump), and its sizes."""

    kind: str
    preview: str
    shown_bytes: int
    size: int

    @property
    def truncated(self) -> bool:
        """Whether the preview shows less than the payload had."""
        return self.size > self.shown_bytes


def is_text(payload: bytes) -> bool:
    """Whether `payload` is UTF-8 without control characters other than tab and newlines."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in _TEXT_CONTROLS or c == " " for c in text)


def hex_dump(data: bytes) -> str:
    """Rows of offset, 16 bytes in hex and their printable ASCII (others as '.')."""
    rows = []
    for at in range(0, len(data), HEX_ROW):
        chunk = data[at:at + HEX_ROW]
        ascii_ = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        rows.append(f"{at:04x}  {chunk.hex(' '):<{HEX_ROW * 3 - 1}}  |{ascii_}|")
    return "\n".join(rows)


def payload_view(payload: bytes, size: int, limit: int = PREVIEW_BYTES) -> PayloadView:
    """The first `limit` bytes of a payload (that had `size` bytes) as text or a hex dump."""
    head = payload[:limit]
    if is_text(payload):
        text = head.decode("utf-8", errors="backslashreplace")
        return PayloadView("text", text, len(head), size)
    return PayloadView("binary", hex_dump(head), len(head), size)


def as_json(letter: StoredDeadLetter, *, personal: bool) -> dict[str, Any]:
    """A dead letter for the API; payload and detail only when `personal` data may be seen."""
    view = payload_view(letter.payload, letter.payload_bytes)
    out: dict[str, Any] = {
        "id": letter.id, "received_at": letter.received_at, "topic": letter.topic,
        "device_id": letter.device_id, "reason": letter.reason,
        "payload_bytes": letter.payload_bytes, "kept_bytes": len(letter.payload),
        "payload_kind": view.kind, "detail": None, "payload_preview": None,
        "payload_hex": None}
    if personal:
        out["detail"] = letter.detail
        out["payload_preview"] = view.preview if view.kind == "text" else None
        out["payload_hex"] = letter.payload[:PREVIEW_BYTES].hex()
    return out


def newest_first_cursor(letters: list[StoredDeadLetter], limit: int) -> int | None:
    """The `before_id` of the next page, or None on the last one."""
    return letters[-1].id if len(letters) == limit and letters else None


def utc_or_naive_as(value: datetime | None, tz: Any) -> datetime | None:
    """`value` made aware: a naive time is read in `tz`."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=tz)
