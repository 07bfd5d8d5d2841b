"""Incident lifecycle: one incident per device and fault episode, flapping suppressed."""

from __future__ import annotations

import numpy as np
import pytest

from devices.catalog import load_catalog
from rules.compiler import compile_rules
from rules.engine import Engine
from rules.incidents import IncidentBook, Policy, Signal
from rules.loader import load_packs

H = 3_600_000
T0 = 1_767_225_600_000


def _sig(on: bool, t: int, source: str = "drain_pump_wear", kind: str = "prediction",
         fault: str = "E21", device: int = 1, **kw) -> Signal:
    return Signal(device=device, fault=fault, source=source, on=on, ts_ms=t, kind=kind,
                  reading=(("value", 1.0),), **kw)


def test_evidence_opens_one_incident_and_more_evidence_updates_it() -> None:
    book = IncidentBook()
    [opened] = book.apply(_sig(True, T0))
    assert opened.change == "opened" and opened.incident.key == f"1:E21:{T0}"
    [upd] = book.apply(_sig(True, T0 + H, source="code:E21", kind="error",
                            severity="error", action="technician", momentary=True))
    assert upd.change == "updated"
    assert upd.incident.key == opened.incident.key
    assert upd.incident.kind == "error" and upd.incident.action == "technician"
    assert len(upd.incident.readings) == 2


def test_an_incident_auto_clears_only_after_a_clean_period() -> None:
    book = IncidentBook(Policy(clean_period_ms=6 * H))
    book.apply(_sig(True, T0))
    book.apply(_sig(False, T0 + H))
    assert book.tick(T0 + 7 * H - 1) == []
    [cleared] = book.tick(T0 + 7 * H)
    assert cleared.change == "auto_cleared" and cleared.incident.closed_ms == T0 + 7 * H


def test_evidence_returning_soon_after_a_clear_reopens_the_same_incident() -> None:
    book = IncidentBook(Policy(clean_period_ms=H, reopen_within_ms=12 * H))
    [first] = book.apply(_sig(True, T0))
    book.apply(_sig(False, T0 + 1))
    book.tick(T0 + 2 * H)
    [again] = book.apply(_sig(True, T0 + 5 * H))
    assert again.change == "reopened" and again.incident.key == first.incident.key
    assert again.incident.flaps == 1
    book.apply(_sig(False, T0 + 5 * H + 1))
    book.tick(T0 + 7 * H)
    [fresh] = book.apply(_sig(True, T0 + 30 * H))
    assert fresh.change == "opened" and fresh.incident.key != first.incident.key


def test_snoozed_and_maintenance_windows_mute_new_evidence() -> None:
    book = IncidentBook()
    book.snooze(1, until_ms=T0 + 2 * H, fault="E21")
    book.maintenance(2, T0, T0 + H)
    assert book.apply(_sig(True, T0 + H)) == []
    assert book.apply(_sig(True, T0 + 30, device=2)) == []
    assert book.muted_signals == 2
    assert [c.change for c in book.apply(_sig(True, T0 + 3 * H))] == ["opened"]


def test_acknowledged_incidents_stay_acknowledged_and_resolved_ones_start_a_new_episode() -> None:
    book = IncidentBook()
    [o] = book.apply(_sig(True, T0))
    book.acknowledge(o.incident.key, T0 + 1)
    [u] = book.apply(_sig(True, T0 + 2, source="drain_suddenly_slow"))
    assert u.incident.state == "acknowledged"
    [r] = book.resolve(o.incident.key, T0 + 3)
    assert r.incident.state == "resolved"
    [n] = book.apply(_sig(True, T0 + 4))
    assert n.change == "opened" and n.incident.key != o.incident.key
    with pytest.raises(KeyError):
        book.resolve(o.incident.key, T0 + 5)


@pytest.fixture(scope="module")
def engine_parts():
    catalog = load_catalog()
    return compile_rules(load_packs(catalog), catalog), catalog


def test_an_error_code_event_opens_an_incident_through_the_catalog(engine_parts) -> None:
    engine = Engine(*engine_parts)
    engine.assign([11], ["WM-800"])
    empty = np.array([], np.int64)
    changes = engine.process(empty, empty, empty, np.array([]),
                             [(T0, 11, 1, "error", "E90", None, None, None, True)])
    assert [c.change for c in changes] == ["opened"]
    inc = changes[0].incident
    assert (inc.fault, inc.kind, inc.severity, inc.action) == ("E90", "error", "critical",
                                                               "technician")
    assert inc.title == "Water leak detected"


def test_a_wearing_drain_pump_opens_a_prediction_with_days_to_failure(engine_parts) -> None:
    engine = Engine(*engine_parts)
    engine.assign([12], ["WM-800"])
    day = 86_400_000
    ts = T0 + np.arange(30, dtype=np.int64) * day  # one wash a day, drain time +8 s/day
    drain = 60.0 + 8.0 * np.arange(30)
    changes = []
    for t, v in zip(ts, drain, strict=True):
        changes += engine.process(np.array([t]), np.array([12]), np.array([3]), np.array([v]))
    opened = [c for c in changes if c.change == "opened"]
    assert opened and opened[0].incident.fault == "E21"
    assert opened[0].incident.kind == "prediction"
    assert "likely to fail in about" in opened[0].incident.title
    assert (opened[0].incident.opened_ms - T0) / day < 22  # 300 s is reached on day 30
