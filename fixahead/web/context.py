"""What the people-facing pages need, kept on `app.state.web` (set when the app starts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import Request

from dispatch.ports import Ports
from dispatch.service import DispatchConfig
from dispatch.storm import StormConfig
from fixahead.wiring import dispatch_ports


class MailSink(Protocol):
    """Anything with the embedded SMTP sink's `messages()` (the outbox page shows them)."""

    def messages(self) -> list[Any]:
        """Distinct received messages."""
        ...


@dataclass
class WebContext:
    """Cookie secret and policy, a clock, the optional SMTP sink, the live-update hub, the
    dispatch tunables an operator's release of a storm uses (as the settings set them), and
    what dispatch reads of other areas (its ports: booking and moves weigh the household's
    usage)."""

    secret: bytes
    secure_cookies: bool = True
    tz: str = "UTC"  # the time zone pages show times in
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sink: MailSink | None = None
    hub: Any = None  # fixahead.web.live.Hub once started
    storms: StormConfig = field(default_factory=StormConfig)
    dispatch: DispatchConfig = field(default_factory=DispatchConfig)
    ports: Ports = field(default_factory=dispatch_ports)


def web_context(request: Request) -> WebContext:
    """The app's WebContext (a clear error when the app was built without one)."""
    ctx = getattr(request.app.state, "web", None)
    if not isinstance(ctx, WebContext):
        raise RuntimeError("app.state.web must be a WebContext: build the app with "
                           "fixahead.web.board_app.create_web_app")
    return ctx
