"""Deliver due outbox rows over SMTP with aiosmtplib: leases, retries with backoff, failures.

Each row is leased (committed) before it is sent and marked sent right after the server
accepts it. A sender that dies in between leaves the row leased; after the lease lapses another
sender resends it with the same Message-ID (rendering is deterministic), so a receiving system
that deduplicates by Message-ID sees it once. Permanent refusals (5xx) are recorded as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosmtplib
import psycopg

from dispatch import outbox
from dispatch.email.render import EmailSettings, render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server."""

    host: str = "127.0.0.1"
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # implicit TLS (port 465)
    start_tls: bool | None = None  # None: STARTTLS when the server offers it
    validate_certs: bool = True
    timeout_s: float = 30.0


@dataclass(frozen=True)
class SenderConfig:
    """Tunables of the sender."""

    lease_s: float = 120.0
    batch: int = 20
    max_attempts: int = 8
    backoff_base_s: float = 30.0
    backoff_max_s: float = 3600.0


DEFAULT_SENDER = SenderConfig()


@dataclass
class Report:
    """What one pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def backoff_s(attempts: int, config: SenderConfig) -> float:
    """Delay before the next attempt after `attempts` tries (exponential, capped)."""
    return float(min(config.backoff_max_s, config.backoff_base_s * 2 ** max(0, attempts - 1)))


def is_permanent(exc: BaseException) -> bool:
    """Whether an SMTP error means retrying cannot help (a 5xx reply)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False  # a configuration problem: keep retrying until fixed or out of attempts
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # 530/534/535/538: TLS or authentication policy, i.e. our configuration, not the email
        return 500 <= exc.code < 600 and exc.code not in (530, 534, 535, 538)
    return False


def _client(s: SmtpSettings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(hostname=s.host, port=s.port, use_tls=s.use_tls,
                           start_tls=s.start_tls, validate_certs=s.validate_certs,
                           timeout=s.timeout_s, username=s.username, password=s.password)


async def _send_rows(conn: psycopg.Connection, rows: list[outbox.OutboxRow], smtp: SmtpSettings,
                     email: EmailSettings, config: SenderConfig,
                     clock: Callable[[], datetime], report: Report) -> None:
    client = _client(smtp)
    connected = False
    for row in rows:
        msg = render(row, email)
        try:
            if not connected:
                await client.connect()
                connected = True
            # flattened here, with the renderer's policy: aiosmtplib's own (78 columns) would
            # refold the subject and the List-Unsubscribe URL
            data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
            await client.sendmail(email.from_addr, [row.to_addr], data)
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            if is_permanent(exc) or row.attempts >= config.max_attempts:
                outbox.mark_failed(conn, row.id, error=error)
                report.failed += 1
                log.warning("email %d failed for good: %s", row.id, error)
            else:
                retry_at = clock() + timedelta(seconds=backoff_s(row.attempts, config))
                outbox.mark_retry(conn, row.id, error=error, retry_at=retry_at)
                report.retried += 1
            if isinstance(exc, aiosmtplib.SMTPServerDisconnected | OSError):
                connected = False
            continue
        outbox.mark_sent(conn, row.id, message_id=str(msg["Message-ID"]), now=clock())
        report.sent += 1
    if connected:
        with contextlib.suppress(aiosmtplib.SMTPException):
            await client.quit()


def deliver_due(conn: psycopg.Connection, smtp: SmtpSettings, email: EmailSettings, *,
                clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                config: SenderConfig = DEFAULT_SENDER, max_batches: int = 100) -> Report:
    """Send every due email (autocommit connection); return counts."""
    report = Report()
    for _ in range(max_batches):
        rows = outbox.claim_due(conn, now=clock(), lease_s=config.lease_s, limit=config.batch)
        if not rows:
            break
        asyncio.run(_send_rows(conn, rows, smtp, email, config, clock, report))
    return report


def run_sender(conninfo: str, smtp: SmtpSettings, email: EmailSettings, stop: threading.Event,
               *, interval_s: float = 2.0, config: SenderConfig = DEFAULT_SENDER) -> None:
    """Deliver due emails every `interval_s` until `stop` is set (a sender process's loop)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while not stop.is_set():
            try:
                report = deliver_due(conn, smtp, email, config=config)
                if report.sent or report.failed:
                    log.info("sent %d, retried %d, failed %d", report.sent, report.retried,
                             report.failed)
            except psycopg.OperationalError:
                log.exception("database unavailable; retrying")
            stop.wait(interval_s)
