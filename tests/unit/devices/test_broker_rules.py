"""The broker's access rules as pure functions: ACL text and the embedded broker's checks."""

from __future__ import annotations

import pytest

from fixahead.broker_auth import INGEST, PLATFORM, render_acl, render_passwords, topic_allowed
from fixahead.web.auth import Principal

P = "fixahead/v1"


@pytest.mark.parametrize(("user", "topic", "action", "allowed"), [
    ("dev-a", f"{P}/dev-a/telemetry", "publish", True),
    ("dev-a", f"{P}/dev-a/events", "publish", True),
    ("dev-a", f"{P}/dev-a/status", "publish", True),
    ("dev-a", f"{P}/dev-a/replies", "publish", True),
    ("dev-a", f"{P}/dev-a/commands", "publish", False),
    ("dev-a", f"{P}/dev-b/telemetry", "publish", False),
    ("dev-a", f"{P}/dev-a/commands", "subscribe", True),
    ("dev-a", f"{P}/dev-a/commands", "receive", True),
    ("dev-a", f"{P}/dev-b/commands", "receive", False),
    ("dev-a", f"{P}/+/commands", "subscribe", False),
    ("dev-a", f"{P}/#", "subscribe", False),
    ("dev-a", "other/v1/dev-a/telemetry", "publish", False),
    ("dev-a", f"{P}/dev-a/telemetry/extra", "publish", False),
    (INGEST, f"{P}/+/telemetry", "subscribe", True),
    (INGEST, f"{P}/dev-b/events", "receive", True),
    (INGEST, f"{P}/dev-b/telemetry", "publish", False),
    (INGEST, f"{P}/dev-b/commands", "receive", False),
    (INGEST, f"{P}/_broker/acl-denied", "subscribe", True),  # the broker's refusal notices
    (INGEST, f"{P}/_broker/acl-denied", "receive", True),
    (INGEST, f"{P}/_broker/acl-denied", "publish", False),
    ("_broker", f"{P}/_broker/acl-denied", "publish", False),
    ("dev-a", f"{P}/_broker/acl-denied", "subscribe", False),
    (INGEST, f"{P}/#", "subscribe", False),
    (PLATFORM, f"{P}/dev-b/commands", "publish", True),
    (PLATFORM, f"{P}/#", "subscribe", True),
    (PLATFORM, "elsewhere/x", "publish", False),
    (None, f"{P}/dev-a/telemetry", "publish", False),
])
def test_topic_rules(user: str | None, topic: str, action: str, allowed: bool) -> None:
    assert topic_allowed(user, topic, action, P) is allowed


def test_the_acl_confines_devices_by_username_pattern() -> None:
    acl = render_acl(P).splitlines()
    assert f"pattern write {P}/%u/telemetry" in acl
    assert f"pattern read {P}/%u/commands" in acl
    assert not any(line.startswith("pattern readwrite") for line in acl)
    assert acl[acl.index(f"user {INGEST}") + 1] == f"topic read {P}/+/telemetry"
    assert f"topic readwrite {P}/#" in acl


def test_the_password_file_has_one_line_per_account() -> None:
    assert render_passwords([("a", "$7$1$x$y"), ("b", "$7$1$z$w")]) == "a:$7$1$x$y\nb:$7$1$z$w\n"


def test_roles_are_ordered_admin_over_scheduler_over_viewer() -> None:
    admin, viewer = Principal(1, "ops", "admin"), Principal(2, "wall", "viewer")
    assert admin.may("scheduler") and admin.may("viewer")
    assert viewer.may("viewer") and not viewer.may("scheduler")
    assert admin.actor == "token:1:ops"
