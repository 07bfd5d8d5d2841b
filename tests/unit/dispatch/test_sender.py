from __future__ import annotations

import aiosmtplib
import pytest

from dispatch.email.sender import SenderConfig, backoff_s, is_permanent


@pytest.mark.parametrize(("exc", "permanent"), [
    (aiosmtplib.SMTPResponseException(550, "mailbox unavailable"), True),
    (aiosmtplib.SMTPResponseException(554, "rejected"), True),
    (aiosmtplib.SMTPResponseException(451, "try later"), False),
    (aiosmtplib.SMTPResponseException(530, "must issue STARTTLS"), False),
    (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), False),
    (aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@x")]), True),
    (aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(450, "greylisted", "a@x")]), False),
    (aiosmtplib.SMTPServerDisconnected("gone"), False),
    (ConnectionRefusedError(), False),
])
def test_only_5xx_replies_about_the_email_are_permanent(exc: BaseException,
                                                        permanent: bool) -> None:
    assert is_permanent(exc) is permanent


def test_backoff_doubles_and_is_capped() -> None:
    cfg = SenderConfig(backoff_base_s=30, backoff_max_s=300)
    assert [backoff_s(n, cfg) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
