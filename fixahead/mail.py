"""Customer mail for every process: the SMTP server (or an embedded sink) and the sender's
settings, and the secret that signs customers' links."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator

from dispatch.email.render import EmailSettings
from dispatch.email.sender import SmtpSettings
from fixahead.settings import Settings

log = logging.getLogger(__name__)


def link_secret(settings: Settings) -> bytes:
    """The configured link secret, or a random one kept in the data directory."""
    if settings.link_secret:
        return settings.link_secret.encode()
    path = settings.data_dir / "link-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


@contextlib.contextmanager
def mail(settings: Settings) -> Iterator[tuple[SmtpSettings, EmailSettings, object | None]]:
    """SMTP settings for the configured server, or an embedded sink started for the duration."""
    from dispatch.email.sink import SmtpSink

    sink = None
    if settings.smtp_host:
        smtp = SmtpSettings(host=settings.smtp_host, port=settings.smtp_port,
                            username=settings.smtp_username, password=settings.smtp_password,
                            use_tls=settings.smtp_tls)
    else:
        try:
            sink = SmtpSink(settings.embedded_smtp_port).start()
        except OSError:  # the port is taken (another instance): any free port will do
            log.warning("port %d is in use; the embedded SMTP sink takes a free port",
                        settings.embedded_smtp_port)
            sink = SmtpSink(0).start()
        smtp = SmtpSettings(host="127.0.0.1", port=sink.port)
    email = EmailSettings(base_url=settings.public_base_url,
                          from_addr=settings.mail_from_address,
                          from_name=settings.mail_from_name, secret=link_secret(settings))
    try:
        yield smtp, email, sink
    finally:
        if sink is not None:
            sink.stop()
