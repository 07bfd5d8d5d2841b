"""The appliance catalog: contents of the packaged files, firmware ranges, and validation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from devices.catalog import KINDS, LANGUAGES, CatalogError, load_catalog

GOOD = """
[model]
id = "X-1"
kind = "washer"
manufacturer = "Acme"
name = "Acme X-1"

[[catalogs]]
version = "1"
firmware = ["1.0", "2.0"]

[[catalogs]]
version = "2"
firmware = ["2.0", ""]

[[metrics]]
id = 1
name = "drain_time"
unit = "s"
valid = [0.0, 100.0]
typical = [10.0, 20.0]
period_s = 0

[[codes]]
code = "E1"
severity = "error"
customer_fixable = true
urgent = false
skill = "plumbing"
parts = ["pump"]
visit_minutes = 30
[codes.text.en]
title = "Blocked"
meaning = "It is blocked."
steps = ["Unplug it.", "Clean the filter."]
[codes.text.de]
title = "Verstopft"
meaning = "Es ist verstopft."
steps = ["Stecker ziehen.", "Sieb reinigen."]

[[codes]]
code = "E2"
severity = "critical"
customer_fixable = false
urgent = true
skill = "electrical"
visit_minutes = 90
since = "2"
[codes.text.en]
title = "Leak"
meaning = "Water on the floor."
safety = "Do not touch the plug with wet hands."
[codes.text.de]
title = "Leck"
meaning = "Wasser am Boden."
safety = "Fassen Sie den Stecker nicht mit nassen Händen an."
"""


@dataclass
class FakeFile:
    """A catalog file held in memory (a Traversable as far as the loader cares)."""

    name: str
    text: str

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.text


@dataclass
class FakeDir:
    """A directory of in-memory catalog files."""

    files: list[FakeFile]

    def iterdir(self) -> list[FakeFile]:
        return self.files


def load(**files: str) -> dict:
    return load_catalog(FakeDir([FakeFile(name, text) for name, text in files.items()]))  # type: ignore[arg-type]


def problems(**files: str) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load(**files)
    return info.value.problems


def test_packaged_catalog_has_a_model_of_every_kind() -> None:
    models = load_catalog()
    assert len(models) >= 6
    assert {m.kind for m in models.values()} == set(KINDS)


def test_packaged_washer_and_fridge_keep_their_protocol_metric_ids_and_codes() -> None:
    models = load_catalog()
    wm = {m.name: m.id for m in models["WM-800"].metrics}
    assert wm == {"motor_current": 1, "water_inflow": 2, "drain_time": 3, "vibration": 4}
    assert {"E21", "E10", "E90"} <= {c.code for c in models["WM-800"].codes}
    fr = {m.name: m.id for m in models["FR-300"].metrics}
    assert {"cabinet_temp": 1, "freezer_temp": 2, "compressor_duty": 3}.items() <= fr.items()
    assert {"F2", "F7"} <= {c.code for c in models["FR-300"].codes}
    e21 = next(c for c in models["WM-800"].codes if c.code == "E21")
    assert (e21.title, e21.severity) == ("Water does not drain", "error")


def test_every_packaged_code_speaks_english_and_german_and_fixable_ones_have_steps() -> None:
    for model in load_catalog().values():
        for code in model.codes:
            assert {lang for lang, _ in code.texts} == set(LANGUAGES), (model.id, code.code)
            if code.customer_fixable:
                assert code.steps("en") and len(code.steps("de")) == len(code.steps("en"))


def test_gradual_fault_metrics_are_in_the_catalog() -> None:
    models = load_catalog()
    assert models["WM-800"].metric("drain_time").period_s == 0
    assert models["FR-300"].metric("compressor_run_time").unit == "min"
    assert models["WH-200"].metric("heating_time").unit == "min"
    hp = models["HP-900"]
    for name in ("high_pressure", "low_pressure", "flow_return_delta"):
        assert hp.metric(name)


def test_leaks_are_urgent_and_reminders_are_not() -> None:
    wm = {c.code: c for c in load_catalog()["WM-800"].codes}
    assert wm["E90"].urgent and not wm["E90"].customer_fixable
    dw = {c.code: c for c in load_catalog()["DW-600"].codes}
    assert not dw["I05"].urgent and dw["I05"].customer_fixable


def test_firmware_selects_the_catalog_version_and_its_codes() -> None:
    model = load(**{"x1.toml": GOOD})["X-1"]
    old, new = model.catalog_for("1.9.3"), model.catalog_for("2.0")
    assert (old.version, new.version) == ("1", "2")
    assert [c.code for c in old.codes] == ["E1"]
    assert [c.code for c in new.codes] == ["E1", "E2"]
    assert model.catalog_for(None).version == "2"
    assert model.catalog_for("10.1").version == "2"
    assert model.catalog_version == "2"
    assert {c.code for c in model.codes} == {"E1", "E2"}


def test_texts_fall_back_to_english_for_an_unknown_language() -> None:
    code = load(**{"x1.toml": GOOD})["X-1"].codes[0]
    assert code.text("de").title == "Verstopft"
    assert code.text("fr").title == "Blocked"
    assert code.steps("de") == ("Stecker ziehen.", "Sieb reinigen.")


def test_an_urgent_code_without_safety_advice_is_reported() -> None:
    broken = GOOD.replace('safety = "Fassen Sie den Stecker nicht mit nassen Händen an."\n', "")
    assert problems(**{"x1.toml": broken}) == [
        "x1.toml: codes[1] (E2): text.de: field 'safety': an urgent code needs safety advice"
    ]
    model = load(**{"x1.toml": GOOD})["X-1"]
    assert model.codes[1].text("de").safety.startswith("Fassen Sie")


def test_a_missing_german_title_is_reported_with_file_entry_and_field() -> None:
    broken = GOOD.replace('title = "Leck"\n', "")
    assert problems(**{"x1.toml": broken}) == [
        "x1.toml: codes[1] (E2): text.de: field 'title': is missing"
    ]


def test_a_wrong_type_and_a_bad_severity_are_both_reported() -> None:
    broken = GOOD.replace("visit_minutes = 30", 'visit_minutes = "half an hour"').replace(
        'severity = "critical"', 'severity = "dire"')
    found = problems(**{"x1.toml": broken})
    assert "x1.toml: codes[0] (E1): field 'visit_minutes': must be int, not str" in found
    assert any(p.startswith("x1.toml: codes[1] (E2): field 'severity'") for p in found)


def test_a_fixable_code_without_steps_is_rejected() -> None:
    broken = GOOD.replace('steps = ["Stecker ziehen.", "Sieb reinigen."]\n', "")
    assert problems(**{"x1.toml": broken}) == [
        "x1.toml: codes[0] (E1): text.de: field 'steps': is missing"
    ]


def test_overlapping_firmware_ranges_are_rejected() -> None:
    broken = GOOD.replace('firmware = ["2.0", ""]', 'firmware = ["1.5", ""]')
    assert problems(**{"x1.toml": broken}) == [
        "x1.toml: catalogs[1]: field 'firmware': ranges must be in order and must not overlap"
    ]


def test_a_code_since_an_unknown_version_is_rejected() -> None:
    broken = GOOD.replace('since = "2"', 'since = "3"')
    assert problems(**{"x1.toml": broken}) == [
        "x1.toml: codes[1] (E2): field 'since': '3' is not a catalog version of this model"
    ]


def test_a_metric_whose_typical_range_leaves_the_valid_range_is_rejected() -> None:
    broken = GOOD.replace("typical = [10.0, 20.0]", "typical = [10.0, 200.0]")
    assert problems(**{"x1.toml": broken}) == [
        "x1.toml: metrics[0] (drain_time): field 'typical': must lie inside the valid range"
    ]


def test_one_broken_file_stops_the_whole_catalog_and_every_file_is_checked() -> None:
    other = GOOD.replace('id = "X-1"', 'id = "X-2"')
    found = problems(**{
        "a.toml": GOOD,
        "b.toml": other.replace('kind = "washer"', 'kind = "toaster"'),
        "c.toml": "this is = not toml [",
    })
    assert found[0].startswith("b.toml: [model]: field 'kind': must be one of")
    assert found[1].startswith("c.toml: not valid TOML")
    assert len(found) == 2


def test_a_model_id_used_twice_is_rejected() -> None:
    found = problems(**{"a.toml": GOOD, "b.toml": GOOD})
    assert found == ["b.toml: [model]: field 'id': 'X-1' is used twice"]
