"""Remote diagnostics requests: a pure state machine. No I/O.

    pending ──(device online: publish)──▶ sent ──(ack)──▶ acknowledged ──(result)──▶ answered
       │                                    │                  │
       └──────────── now ≥ expires_at ──────┴──────────────────┴──────────────────▶ expired

A request waits in `pending` while its device is offline and is published once it is online.
A result may arrive without an ack before it (the ack was lost): it still answers. Replies are
matched by request id; anything that does not fit is refused with a reason and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from devices.commands import Command, CommandKind, Reply, ReplyType


class State(StrEnum):
    """Where a request is."""

    PENDING = "pending"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    EXPIRED = "expired"


OPEN = (State.PENDING, State.SENT, State.ACKNOWLEDGED)


class Refusal(StrEnum):
    """Why a reply was not taken."""

    UNKNOWN_REQUEST = "unknown_request"
    WRONG_DEVICE = "wrong_device"
    EXPIRED = "expired"
    ALREADY_ANSWERED = "already_answered"
    BAD_REPLY = "bad_reply"


@dataclass(frozen=True)
class Request:
    """One diagnostics request and what has happened to it."""

    request_id: str
    device_id: str
    kind: CommandKind
    created_at: datetime
    expires_at: datetime
    state: State = State.PENDING
    sent_at: datetime | None = None
    acked_at: datetime | None = None
    answered_at: datetime | None = None
    status: str | None = None
    result: dict[str, Any] | None = None
    incident_id: str | None = None
    visit_id: int | None = None

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None or self.expires_at.tzinfo is None:
            raise ValueError("request times must be timezone-aware")
        if self.expires_at <= self.created_at:
            raise ValueError("a request must expire after it was created")

    @property
    def open(self) -> bool:
        """Whether the request may still change."""
        return self.state in OPEN

    def command(self) -> Command:
        """The command to publish for this request."""
        return Command(self.request_id, self.kind, _ms(self.created_at), _ms(self.expires_at))


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def new_request(request_id: str, device_id: str, kind: CommandKind | str, *, now: datetime,
                ttl: timedelta, incident_id: str | None = None,
                visit_id: int | None = None) -> Request:
    """A new pending request valid for `ttl`."""
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    return Request(request_id, device_id, CommandKind(kind), now, now + ttl,
                   incident_id=incident_id, visit_id=visit_id)


def should_publish(req: Request, *, now: datetime, online: bool) -> bool:
    """Whether to publish the request now: pending, unexpired, and the device is online."""
    return req.state is State.PENDING and online and now < req.expires_at


def mark_sent(req: Request, *, now: datetime) -> Request:
    """The request after its command was published."""
    if req.state is not State.PENDING:
        raise ValueError(f"only a pending request can be sent (it is {req.state})")
    return replace(req, state=State.SENT, sent_at=now)


def expire(req: Request, *, now: datetime) -> Request:
    """The request, expired when it is still open at or after its expiry."""
    if req.open and now >= req.expires_at:
        return replace(req, state=State.EXPIRED)
    return req


def waiting_reason(req: Request, *, online: bool | None) -> str:
    """What a person reading the request should know about its state."""
    if req.state is State.PENDING:
        return "waiting for the device to come online" if online is False else \
            "waiting to be sent"
    return {State.SENT: "sent, waiting for the device's receipt",
            State.ACKNOWLEDGED: "received by the device, waiting for its result",
            State.ANSWERED: f"answered ({req.status})",
            State.EXPIRED: "expired before the device answered"}[req.state]


@dataclass(frozen=True)
class Applied:
    """The outcome of a reply: the updated request, or why the reply was refused."""

    request: Request | None
    refusal: Refusal | None = None
    detail: str = ""

    @property
    def accepted(self) -> bool:
        """Whether the reply changed (or confirmed) the request."""
        return self.refusal is None


def apply_reply(req: Request | None, device_id: str, reply: Reply, *,
                now: datetime) -> Applied:
    """Match `reply` (from `device_id`) to its request and move the request on."""
    if req is None:
        return Applied(None, Refusal.UNKNOWN_REQUEST,
                       f"no request {reply.request_id} was sent to a device")
    if req.device_id != device_id:
        return Applied(None, Refusal.WRONG_DEVICE,
                       f"request {req.request_id} belongs to {req.device_id}, not {device_id}")
    if req.state is State.PENDING:
        # only the platform publishes request ids, so an answer proves the command went out;
        # it can overtake the bookkeeping that marks it sent
        req = replace(req, state=State.SENT, sent_at=now)
    if reply.type is ReplyType.ACK:
        if req.state is State.SENT:
            if now >= req.expires_at:
                return Applied(expire(req, now=now), Refusal.EXPIRED,
                               f"request {req.request_id} expired at {req.expires_at}")
            return Applied(replace(req, state=State.ACKNOWLEDGED, acked_at=now))
        return Applied(req)  # a duplicate or late receipt changes nothing
    if req.state is State.ANSWERED:
        return Applied(req, Refusal.ALREADY_ANSWERED,
                       f"request {req.request_id} was already answered")
    if req.state is State.EXPIRED or now >= req.expires_at:
        return Applied(expire(req, now=now), Refusal.EXPIRED,
                       f"request {req.request_id} expired at {req.expires_at}")
    assert reply.status is not None
    return Applied(replace(req, state=State.ANSWERED, answered_at=now,
                           acked_at=req.acked_at or now, status=reply.status.value,
                           result=reply.result))


def findings(req: Request) -> list[str]:
    """Short lines for a job page: what the answer says (state, errors, readings, checks)."""
    if req.state is not State.ANSWERED or req.result is None:
        return []
    r = req.result
    out: list[str] = []
    if req.status != "ok":
        return [f"the device answered {req.status}"]
    if "state" in r:
        out.append(f"state: {r['state']}" + (f", firmware {r['firmware']}"
                                             if r.get("firmware") else ""))
    if r.get("active_errors"):
        out.append("active errors: " + ", ".join(map(str, r["active_errors"])))
    for name, value in sorted((r.get("readings") or {}).items()):
        out.append(f"{name}: {value}")
    if "passed" in r:
        failed = [str(c.get("name")) for c in r.get("checks", []) if not c.get("ok")]
        out.append("self-test passed" if r["passed"] else
                   "self-test failed: " + ", ".join(failed))
    return out
