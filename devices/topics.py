"""Device topics: `{prefix}/{device_id}/{channel}`; parsing and building, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

CHANNELS = ("telemetry", "events", "status", "commands", "replies")
PUBLISHED_BY_DEVICE = ("telemetry", "events", "status", "replies")
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class DeviceTopic:
    """A parsed device topic; construction validates every part."""

    prefix: str
    device_id: str
    channel: str

    def __post_init__(self) -> None:
        if not DEVICE_ID.match(self.device_id):
            raise ValueError(f"device id {self.device_id!r} must match {DEVICE_ID.pattern}")
        if self.channel not in CHANNELS:
            raise ValueError(f"channel {self.channel!r} is not one of {', '.join(CHANNELS)}")
        if not self.prefix or "+" in self.prefix or "#" in self.prefix:
            raise ValueError(f"topic prefix {self.prefix!r} must be non-empty, without wildcards")

    def __str__(self) -> str:
        return f"{self.prefix}/{self.device_id}/{self.channel}"


def parse_topic(topic: str, prefix: str) -> DeviceTopic:
    """Split `topic` under `prefix`; raise ValueError naming what is wrong."""
    head = prefix + "/"
    if not topic.startswith(head):
        raise ValueError(f"topic {topic!r} is not under {prefix!r}")
    parts = topic[len(head) :].split("/")
    if len(parts) != 2:
        raise ValueError(f"topic {topic!r} is not {prefix}/<device_id>/<channel>")
    return DeviceTopic(prefix, parts[0], parts[1])


def topic_for(prefix: str, device_id: str, channel: str) -> str:
    """Build a device's topic for `channel`."""
    return str(DeviceTopic(prefix, device_id, channel))


def acl_notice_topic(prefix: str) -> str:
    """Where the broker reports what it refused devices (its ACL denials); no device can
    publish there (`_broker/acl-denied` is no device channel)."""
    return f"{prefix}/_broker/acl-denied"


def shared_subscription(topic: str, share_group: str | None) -> str:
    """`topic` as a subscription of `share_group` (MQTT 5 `$share/...`), or as is without one."""
    return f"$share/{share_group}/{topic}" if share_group else topic


def subscription(prefix: str, channel: str, share_group: str | None = None) -> str:
    """The wildcard subscription for `channel` of all devices, shared when a group is given."""
    return shared_subscription(f"{prefix}/+/{channel}", share_group)
