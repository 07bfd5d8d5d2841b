"""Building and configuring the Mosquitto audit plugin; without gcc the broker runs without it
and the log says so once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from fixahead import brokeraudit
from fixahead.brokeraudit import LIBRARY, AuditPlugin, audit_plugin, build, loaded_in
from fixahead.mosquitto import render_config


def test_the_audit_plugin_is_loaded_before_dynsec_with_its_options(tmp_path: Path) -> None:
    lines = AuditPlugin(tmp_path / LIBRARY, "fixahead/v1").config_lines()
    text = render_config(port=1883, persistence_dir=tmp_path, dynsec_file=tmp_path / "d.json",
                         audit_lines=lines).splitlines()
    plugins = [line for line in text if line.startswith("plugin ")]
    assert plugins[0] == f"plugin {tmp_path / LIBRARY}"
    assert plugins[1].endswith("mosquitto_dynamic_security.so")
    start = text.index(plugins[0])
    assert text[start + 1:start + 5] == [
        "plugin_opt_prefix fixahead/v1",
        "plugin_opt_services fixahead.ingest,fixahead.platform,fixahead.admin",
        "plugin_opt_notice_topic fixahead/v1/_broker/acl-denied",
        "plugin_opt_interval_ms 1000"]
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("\n".join(text))
    assert loaded_in(conf) == tmp_path / LIBRARY


@pytest.mark.skipif(brokeraudit.missing_tools() is not None,
                    reason=f"the audit plugin cannot be built: {brokeraudit.missing_tools()}")
def test_the_plugin_is_built_once_per_source(tmp_path: Path) -> None:
    first = build(tmp_path)
    assert first == (tmp_path / LIBRARY).resolve() and first.stat().st_mode & 0o755 == 0o755
    built_at = first.stat().st_mtime_ns
    assert build(tmp_path) == first and first.stat().st_mtime_ns == built_at


def test_without_gcc_the_broker_goes_without_the_plugin_and_says_so_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(brokeraudit, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="fixahead.brokeraudit"):
        assert audit_plugin(tmp_path, "fixahead/v1") is None
        assert audit_plugin(tmp_path, "fixahead/v1") is None
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1
    assert "gcc is not installed" in caplog.records[0].getMessage()
    assert not (tmp_path / LIBRARY).exists()
