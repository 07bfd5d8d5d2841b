"""Fixahead's Mosquitto audit plugin (C), run through a harness of stubs: it refuses a device
exactly what the device rule refuses (the rule of the embedded broker and of the dynsec roles),
defers everything else to the dynamic security plugin, and reports refusals per client at most
once per interval with a count."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixahead.broker_auth import ADMIN, INGEST, PLATFORM, topic_allowed
from fixahead.brokeraudit import missing_tools
from tests.support.audit_plugin import (
    DEFER,
    DENIED,
    READ,
    SUBSCRIBE,
    UNSUBSCRIBE,
    WRITE,
    AuditPlugin,
)

pytestmark = pytest.mark.skipif(missing_tools() is not None,
                                reason=f"the audit plugin cannot be built: {missing_tools()}")
P = "fixahead/v1"
NOTICES = f"{P}/_broker/acl-denied"
SERVICES = f"{INGEST},{PLATFORM},{ADMIN}"
ACTIONS = {"publish": WRITE, "subscribe": SUBSCRIBE, "receive": READ}
TOPICS = [f"{P}/dev-a/{ch}" for ch in ("telemetry", "events", "status", "replies", "commands",
                                       "other")] + [
    f"{P}/dev-b/telemetry", f"{P}/dev-b/commands", f"{P}/dev-a", f"{P}/dev-a/telemetry/x",
    f"{P}/+/telemetry", f"{P}/#", f"$share/ingest/{P}/+/telemetry", f"$share/g/{P}/dev-a/commands",
    "other/v1/dev-a/telemetry", f"{P}x/dev-a/telemetry", f"{P}/dev-ab/telemetry",
    f"{P}/dev/telemetry", NOTICES, "$CONTROL/dynamic-security/v1", "#"]


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[AuditPlugin]:
    p = AuditPlugin(tmp_path, P, SERVICES, NOTICES, 200)
    yield p
    p.close()


def test_a_device_is_refused_exactly_what_the_device_rule_refuses(plugin: AuditPlugin) -> None:
    for topic in TOPICS:
        for action, access in ACTIONS.items():
            want = DEFER if topic_allowed("dev-a", topic, action, P) else DENIED
            assert plugin.check("dev-a", topic, access) == want, (topic, action)
    assert plugin.check("dev-a", f"{P}/dev-a/commands", UNSUBSCRIBE) == DEFER
    assert plugin.check("dev-a", f"{P}/dev-b/commands", UNSUBSCRIBE) == DENIED


def test_platform_accounts_other_names_and_clients_without_username_are_left_to_dynsec(
        plugin: AuditPlugin) -> None:
    for user in (INGEST, PLATFORM, ADMIN, None, "ops.grafana", "", "x" * 65, 'dev"a'):
        for topic in TOPICS:
            for access in (READ, WRITE, SUBSCRIBE, UNSUBSCRIBE):
                assert plugin.check(user, topic, access) == DEFER, (user, topic, access)
    assert plugin.published() == []


def test_refusals_are_reported_once_at_once_then_per_interval_with_a_count(
        plugin: AuditPlugin) -> None:
    share = f"$share/ingest/{P}/+/telemetry"
    plugin.check("dev-a", share, SUBSCRIBE)
    assert plugin.published() == [(NOTICES, 1, {"client": "dev-a", "username": "dev-a",
                                                "access": "subscribe", "topic": share,
                                                "count": 1})]
    for _ in range(4):
        plugin.check("dev-a", f"{P}/dev-b/telemetry", WRITE)
    plugin.check("dev-b", f"{P}/dev-a/telemetry", WRITE, client_id="dev-b")  # its own first
    plugin.tick()
    assert [n["client"] for _, _, n in plugin.published()] == ["dev-b"]
    time.sleep(0.25)
    plugin.tick()
    assert [(n["access"], n["topic"], n["count"]) for _, _, n in plugin.published()] == [
        ("publish", f"{P}/dev-b/telemetry", 4)]
    plugin.tick()
    assert plugin.published() == []


def test_notices_escape_what_json_would_not_take(plugin: AuditPlugin) -> None:
    plugin.check("dev-a", f'{P}/x\\y"z/\x01', WRITE, client_id='c\n"d')
    [(_, _, n)] = plugin.published()
    assert n == {"client": 'c\n"d', "username": "dev-a", "access": "publish",
                 "topic": f'{P}/x\\y"z/\x01', "count": 1}


def test_the_plugin_refuses_to_start_without_its_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="refused its options"):
        AuditPlugin(tmp_path, P, "", NOTICES, 1000)
