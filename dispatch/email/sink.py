"""An SMTP sink (aiosmtpd) for the embedded platform and tests: it keeps what it receives.

Messages are kept by Message-ID: a resent message (same Message-ID) is counted but stored once,
as a receiving mail system that deduplicates would. `raw_count` tells how many arrived.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    """One message as the sink received it."""

    message_id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    tls: bool = False

    def parsed(self) -> EmailMessage:
        """The message parsed with the modern email policy."""
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


class SinkHandler:
    """aiosmtpd handler that stores messages; optionally slow, to test interrupted senders."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.by_id: dict[str, Received] = {}
        self.raw: list[Received] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Store the message (aiosmtpd hook)."""
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        data = bytes(envelope.content)
        msg = message_from_bytes(data, policy=policy.default)
        mid = str(msg.get("Message-ID", "")).strip()
        item = Received(mid, envelope.mail_from, tuple(envelope.rcpt_tos), data,
                        tls=getattr(session, "ssl", None) is not None)
        with self._lock:
            self.raw.append(item)
            self.by_id.setdefault(mid, item)
        return "250 Message accepted for delivery"

    def messages(self) -> list[Received]:
        """Distinct messages (one per Message-ID), in arrival order."""
        with self._lock:
            return list(self.by_id.values())

    @property
    def raw_count(self) -> int:
        """Deliveries including resends of the same Message-ID."""
        with self._lock:
            return len(self.raw)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until `count` distinct messages arrived."""
        deadline = time.monotonic() + timeout
        while len(self.by_id) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.by_id)} of {count} messages after {timeout}s")
            time.sleep(0.02)
        return self.messages()


class SmtpSink:
    """A running aiosmtpd server on 127.0.0.1 with a `SinkHandler`."""

    def __init__(self, port: int = 0, *, delay_s: float = 0.0, host: str = "127.0.0.1",
                 credentials: tuple[str, str] | None = None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.handler = SinkHandler(delay_s)
        if port == 0:  # the controller checks readiness by connecting, so it needs a real port
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = int(probe.getsockname()[1])
        auth: dict[str, Any] = {}
        if credentials is not None:
            def check(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
                ok = isinstance(data, LoginPassword) and (
                    data.login.decode(), data.password.decode()) == credentials
                return AuthResult(success=ok, handled=False)

            # AUTH over plain text is offered (loopback tests and the demo only); it is not
            # required, since aiosmtpd refuses to require AUTH without TLS
            auth = {"authenticator": check, "auth_require_tls": False}
        if tls_context is not None:  # offer STARTTLS and insist on it
            auth.update(tls_context=tls_context, require_starttls=True)
        self.controller = Controller(self.handler, hostname=host, port=port, **auth)

    def start(self) -> SmtpSink:
        """Start serving."""
        try:
            self.controller.start()
        except BaseException:  # e.g. the port is taken: do not leak the controller's loop
            self._close_loop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.controller.stop()
        self._close_loop()

    def _close_loop(self) -> None:
        loop = self.controller.loop
        if not loop.is_running() and not loop.is_closed():
            loop.close()

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.controller.port)

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
