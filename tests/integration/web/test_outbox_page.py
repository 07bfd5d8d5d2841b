"""The outbox page lists the outbox rows and what the embedded SMTP sink received."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage

import psycopg
import pytest

from dispatch.email.sink import SmtpSink
from fixahead.web.board_app import create_web_app
from tests.integration.web.board_support import PASSWORD, SECRET, add_people, now_utc, seed_job
from tests.integration.web.conftest import TestClient

pytestmark = pytest.mark.integration


def _login(client: TestClient, email: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})


def test_the_outbox_shows_emails_and_what_the_sink_received(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        people = add_people(conn)
        seed_job(conn, now=now_utc())
    with SmtpSink() as sink:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "s@fix.example", "ada@example.org", "Visit"
        msg["Message-ID"] = "<m1@fix.example>"
        msg.set_content("A technician comes on Tuesday.")
        with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
            smtp.send_message(msg)
        sink.handler.wait_for(1)
        app = create_web_app(database_url, secret=SECRET, secure_cookies=False, live=False,
                             sink=sink.handler)
        with TestClient(app) as client:
            _login(client, people["scheduler"])
            page = client.get("/outbox").text
            assert "ada1@example.org" in page and "pending" in page and ">Visit</a>" in page
            assert "Tuesday" in client.get("/outbox/received/0").text
            assert '"kind": "visit"' in client.get("/outbox/1").text.replace("&#34;", '"')
            client.cookies.clear()
            _login(client, people["viewer"])
            page = client.get("/outbox").text
            assert "ada1@example.org" not in page and "cus-1" in page
            assert client.get("/outbox/received/0").status_code == 403
