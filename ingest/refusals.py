"""The broker's reports of what it refused devices (ACL denials), as dead letters; no I/O.

The broker (Fixahead's Mosquitto audit plugin, or the embedded broker's topic plugin)
publishes one notice per client at most once a second on `acl_notice_topic(prefix)`:
`{"client", "username", "access", "topic", "count"}`. Each becomes one dead letter with reason
`acl_denied`, the refused topic as its topic, the device (the username) as its device, and the
notice itself as its payload; `count` says how many refusals it stands for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from devices.protocol import Reason
from devices.topics import DEVICE_ID
from ingest.deadletters import DeadLetter, dead_letter

ACCESSES = ("publish", "subscribe", "unsubscribe", "receive")


@dataclass(frozen=True)
class Refusal:
    """What one notice reports: how many requests of one kind a client was refused."""

    access: str
    count: int


def refusal_letter(notice_topic: str, payload: bytes, prefix: str,
                   max_bytes: int) -> tuple[DeadLetter, Refusal | None]:
    """The dead letter for one notice, and its refusal (None when the notice is malformed:
    then the letter says why, with reason `bad_schema`)."""
    try:
        doc = json.loads(payload)
        client, username = str(doc["client"]), str(doc["username"])
        access, topic, count = str(doc["access"]), str(doc["topic"]), doc["count"]
        if access not in ACCESSES or type(count) is not int or count < 1:
            raise ValueError(f"access {access!r} or count {count!r} out of range")
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
        return dead_letter(notice_topic, prefix, Reason.BAD_SCHEMA,
                           f"broker refusal notice: {exc!r}"[:500], payload, max_bytes), None
    device = username if DEVICE_ID.match(username) else None
    times = "once" if count == 1 else f"{count} times"
    detail = (f"{access} refused by the broker's ACL ({times} in the last second or so; "
              f"client id {client!r}, username {username!r})")
    letter = dead_letter(topic, prefix, Reason.ACL_DENIED, detail, payload, max_bytes, device)
    return letter, Refusal(access, count)
