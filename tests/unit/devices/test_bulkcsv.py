"""Checking a CSV of devices to register: every bad row reported with its line and field."""

from __future__ import annotations

from devices.bulkcsv import parse_devices_csv

MODELS = {"WM-800", "FR-300"}


def test_good_rows_come_back_in_file_order_with_their_lines() -> None:
    rows, errors = parse_devices_csv(
        "device_id,model,firmware\nwm-1,WM-800,2.1\nfr-1,FR-300,\n", models=MODELS)
    assert errors == []
    assert [(r.line, r.device_id, r.model_id, r.firmware) for r in rows] == [
        (2, "wm-1", "WM-800", "2.1"), (3, "fr-1", "FR-300", "")]


def test_every_bad_row_is_reported_with_line_and_field() -> None:
    text = ("model,device_id,household_id\n"
            "WM-800,ok-1,\n"
            "XX-1,ok-2,\n"
            "WM-800,bad id!,\n"
            "WM-800,ok-1,\n"
            "WM-800,taken,\n"
            "WM-800,ok-3,hh-nowhere\n")
    rows, errors = parse_devices_csv(text, models=MODELS, existing={"taken"},
                                     households={"hh-1"})
    assert [str(e) for e in errors] == [
        "line 3: model: 'XX-1' is not in the catalog",
        "line 4: device_id: 'bad id!' must be 1-64 of A-Z a-z 0-9 _ -",
        "line 5: device_id: 'ok-1' repeats line 2",
        "line 6: device_id: 'taken' is registered already",
        "line 7: household_id: 'hh-nowhere' does not exist",
    ]
    assert [r.device_id for r in rows] == ["ok-1"]


def test_a_bad_firmware_version_is_reported() -> None:
    _, errors = parse_devices_csv("device_id,model,firmware\nd1,WM-800,v2\n", models=MODELS)
    assert [(e.line, e.field) for e in errors] == [(2, "firmware")]


def test_a_wrong_header_is_one_clear_error() -> None:
    _, errors = parse_devices_csv("id,model\nd1,WM-800\n", models=MODELS)
    assert len(errors) == 1 and errors[0].field == "header"
    assert "missing column(s) device_id" in errors[0].message


def test_an_extra_value_and_an_empty_file_are_errors() -> None:
    _, errors = parse_devices_csv("device_id,model\nd1,WM-800,surplus\n", models=MODELS)
    assert [(e.line, e.field) for e in errors] == [(2, "row")]
    _, errors = parse_devices_csv("device_id,model\n", models=MODELS)
    assert [e.field for e in errors] == ["file"]


def test_a_byte_order_mark_from_spreadsheets_is_accepted() -> None:
    rows, errors = parse_devices_csv("\ufeffdevice_id,model\nd1,WM-800\n", models=MODELS)
    assert errors == [] and rows[0].device_id == "d1"


def test_line_breaks_of_any_kind_and_stray_carriage_returns_give_errors_not_exceptions() -> None:
    rows, errors = parse_devices_csv("device_id,model\r\nA1,WM-800\r\n", models={"WM-800"})
    assert [r.device_id for r in rows] == ["A1"] and errors == []
    rows, errors = parse_devices_csv("device_id,mo\rdel\nA1,WM-800\n", models={"WM-800"})
    assert rows == [] and errors[0].line == 1 and errors[0].field == "header"
