"""Metrics ports per role never collide; `--fresh` refuses to touch configured services."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixahead.fresh import earlier_demos, start_fresh
from fixahead.health import ROLE_OFFSETS, role_port
from fixahead.settings import load_settings


def test_every_role_has_its_own_metrics_port_from_one_setting():
    ports = [role_port(9100, role) for role in ROLE_OFFSETS]
    assert len(set(ports)) == len(ports) and role_port(9100, "ingest") == 9100


def test_fresh_never_touches_a_configured_database(tmp_path: Path):
    settings = load_settings({"FIXAHEAD_DATABASE_URL": "postgresql://db/x"}, data_dir=tmp_path)
    with pytest.raises(ValueError, match="embedded"):
        start_fresh(settings)


def test_fresh_removes_embedded_state_and_earlier_demos(tmp_path: Path):
    (tmp_path / "simulations" / "demo-s1-1").mkdir(parents=True)
    (tmp_path / "mosquitto").mkdir()
    (tmp_path / "demo-login").write_text("x")
    (tmp_path / "keep.txt").write_text("x")
    assert [p.name for p in earlier_demos(tmp_path)] == ["demo-s1-1"]
    removed = start_fresh(load_settings({}, data_dir=tmp_path))
    assert {p.name for p in removed} == {"simulations", "mosquitto", "demo-login"}
    assert earlier_demos(tmp_path) == [] and (tmp_path / "keep.txt").exists()
