"""`fixahead bench homes`: real homes' logs in the UCI ADL format read, scored and refused."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from typer.testing import CliRunner

from fixahead.cli import app
from fixahead.lab.bench.homes import (
    BOOK_HOURS,
    TZ,
    evaluate,
    home_for_whole,
    moments,
    read_home,
    read_homes,
)

FIRST = date(2026, 2, 2)  # a Monday; Madrid keeps CET all month
DAYS = 15
HEAD = {"ADLs": "Start time          \tEnd time            \tActivity\t\n",
        "Sensors": "Start time          \tEnd time            \tLocation\tType\t\tPlace\n"}
RULE = "--------------------\t--------------------\t--------\n"


def _at(day: int, hour: int, minute: int = 0) -> str:
    return (datetime.combine(FIRST, datetime.min.time()) + timedelta(
        days=day, hours=hour, minutes=minute)).strftime("%Y-%m-%d %H:%M:%S")


def write_home(folder: Path, name: str = "HomeX") -> Path:
    """A home out 16:00-20:00 every day, its fridge and microwave used morning, noon and night,
    in the UCI ADL format (tabs, two header lines)."""
    adls, sensors = [], []
    for d in range(DAYS):
        adls.append(f"{_at(d, 0)}\t\t{_at(d, 7, 30)}\t\tSleeping\t\t")
        adls.append(f"{_at(d, 16)}\t\t{_at(d, 19, 59)}\t\tLeaving\t\t")
        adls.append(f"{_at(d, 21)}\t\t{_at(d, 23, 59)}\t\tSpare_Time/TV\t")
        for h, m, what in ((8, 15, "Fridge\tMagnetic\tKitchen"), (12, 30, "Fridge\tMagnetic\t"
                           "Kitchen"), (13, 0, "Microwave\tElectric\tKitchen"),
                           (16, 0, "Maindoor\tMagnetic\tEntrance"),
                           (20, 0, "Maindoor\tMagnetic\tEntrance"),
                           (21, 30, "Fridge\tMagnetic\tKitchen")):
            sensors.append(f"{_at(d, h, m)}\t\t{_at(d, h, m + 1)}\t\t{what}")
    (folder / f"{name}_ADLs.txt").write_text(HEAD["ADLs"] + RULE + "\n".join(adls) + "\n",
                                             encoding="latin-1")
    path = folder / f"{name}_Sensors.txt"
    path.write_text(HEAD["Sensors"] + RULE + "\n".join(sensors) + "\n", encoding="latin-1")
    return path


def test_a_home_is_read_with_its_absences_and_sensors(tmp_path: Path) -> None:
    home = read_home(write_home(tmp_path))
    assert home.name == "HomeX"
    assert home.away.shape == (DAYS, 2)
    assert home.sensors.size == 6 * DAYS and np.all(np.diff(home.sensors) >= 0)
    assert set(home.sensor_names) == {"fridge", "microwave", "maindoor"}
    zone = ZoneInfo(TZ)
    day = datetime(2026, 2, 10, tzinfo=zone)
    starts = np.array([int((day + timedelta(hours=h)).timestamp()) for h in (8, 14, 16, 18, 20)])
    # 14:00-16:00 ends as the absence begins; 20:00 starts as it ends
    assert home_for_whole(home, starts).tolist() == [True, True, False, False, True]


def test_bookings_need_a_week_behind_and_three_days_ahead(tmp_path: Path) -> None:
    home = read_home(write_home(tmp_path))
    booked = moments(home)
    zone = ZoneInfo(TZ)
    days = sorted({datetime.fromtimestamp(now, zone).date() for now, _ in booked})
    assert days[0] == FIRST + timedelta(days=8) and days[-1] == FIRST + timedelta(days=DAYS - 5)
    assert len(booked) == len(days) * len(BOOK_HOURS)
    for now, starts in booked + moments(home, from_now=True):
        assert starts.size == 18 and np.all(starts > now) and np.all(np.diff(starts) > 0)


def test_the_model_books_this_home_when_it_is_in_and_the_first_free_slot_does_not(
        tmp_path: Path) -> None:
    write_home(tmp_path)
    r = evaluate(read_homes(tmp_path), appliances_only=True, from_now=True)["pooled"]
    # booked at 17:00 the first free window (18:00-20:00) falls in the daily absence
    assert r["first_free"] < 0.9
    assert r["model"] >= 0.95 and r["oracle"] == 1.0
    # and so does someone booking the likeliest window of the CLI's hourly view alone
    assert r["hourly_argmax"] >= 0.95
    assert r["brier"] < r["brier_prior"]


def test_malformed_logs_are_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    sensors = write_home(tmp_path)
    adls = tmp_path / "HomeX_ADLs.txt"
    text = adls.read_text(encoding="latin-1").splitlines()
    adls.write_text("\n".join([*text[:5], "2026-02-03 10:00:00", *text[5:]]) + "\n",
                    encoding="latin-1")
    with pytest.raises(ValueError, match=r"HomeX_ADLs\.txt: line 6: expected 3"):
        read_home(sensors)
    adls.write_text("\n".join([*text[:5], "2026-02-03 10:00:00\t\tsoon\t\tLeaving", *text[5:]])
                    + "\n", encoding="latin-1")
    with pytest.raises(ValueError, match=r"HomeX_ADLs\.txt: 'soon' is not a date and time"):
        read_home(sensors)
    adls.unlink()
    with pytest.raises(FileNotFoundError, match=r"HomeX_ADLs\.txt"):
        read_home(sensors)
    with pytest.raises(FileNotFoundError, match="no homes"):
        read_homes(tmp_path / "empty")


def test_the_cli_writes_the_benchmark_and_refuses_a_missing_data_folder(tmp_path: Path) -> None:
    write_home(tmp_path)
    out = tmp_path / "homes.json"
    runner = CliRunner()
    done = runner.invoke(app, ["bench", "homes", "--data", str(tmp_path), "--json", str(out)])
    assert done.exit_code == 0, done.output
    doc = json.loads(out.read_text())
    assert doc["bench"] == "homes" and doc["config"]["homes"] == ["HomeX"]
    assert set(doc["metrics"]["runs"]) == {"appliances", "all_sensors", "appliances_from_now",
                                              "all_sensors_from_now"}
    refused = runner.invoke(app, ["bench", "homes", "--json", str(out)])
    assert refused.exit_code == 2 and "--data" in refused.output
    missing = runner.invoke(app, ["bench", "homes", "--data", str(tmp_path / "none"),
                                  "--json", str(out)])
    assert missing.exit_code == 2 and "no homes" in missing.output
