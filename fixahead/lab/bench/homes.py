"""`fixahead bench homes --data DIR`: availability on real homes, not on our simulator.

Real homes' sensor logs with hand-labelled absences, in the format of the UCI "Activities of
Daily Living (ADLs) Recognition Using Binary Sensors" data set (Ordóñez et al. 2013; two homes
in Spain, 14 and 21 days): for each home a `<Home>_Sensors.txt` (start, end, sensor, type,
room; tab-separated, two header lines) and a `<Home>_ADLs.txt` (start, end, activity). The
household is away during its `Leaving` activities and home otherwise, from the first label to
the last. What Fixahead would see are the appliances' events (fridge or freezer door,
microwave, toaster, cooktop, oven, kettle, washer, dryer, dishwasher: `APPLIANCES`); every
sensor's activations (doors, cupboards, beds, toilets too) are scored as well, as a far denser
log than any appliance gives.

Booked like `fixahead bench availability`: at 09:00, 13:00, 17:00 and 21:00 of every day with
at least a week of history behind it and three labelled days ahead, with 1, 2 and 3 weeks of
history where the log has them; the candidates are the 2-hour windows 08:00-20:00 on each of
the next three days, and a visit counts as home when no absence overlaps its window. Compared
in the same run: the model's pick (`best_window`, what the booking search does), the
likeliest window of the CLI's hourly P(home) (what someone using `fixahead availability
predict` alone would book), the first free slot, the population prior's pick and the oracle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.availability import population_prior, predict
from dispatch.availability_pick import best_window, window_p, window_probability
from fixahead.lab.bench.availability import WINDOW_HOURS
from fixahead.lab.bench.common import result

TZ = "Europe/Madrid"  # the Ordóñez homes; their logs are in local wall-clock time
ABSENT = "leaving"  # activity names (lower case) that mean nobody is home
APPLIANCES = ("fridge", "freezer", "microwave", "toaster", "cooktop", "oven", "kettle",
              "washingmachine", "washer", "dryer", "dishwasher")
BOOK_HOURS = (9, 13, 17, 21)
HISTORIES = (1, 2, 3)
_FIELDS = re.compile(r"\t+")


@dataclass(frozen=True)
class Home:
    """One real home: labelled span, absences and sensor activations (epoch seconds)."""

    name: str
    start_s: int
    end_s: int
    away: np.ndarray  # int64[n, 2]: [start, end) of each absence
    sensors: np.ndarray  # int64: activation times, sorted
    sensor_names: np.ndarray  # str: the sensor of each activation (lower case)


def _rows(path: Path, fields: int) -> list[list[str]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        if n <= 2 or not line.strip():
            continue  # the header and its underline
        cells = [c.strip() for c in _FIELDS.split(line.strip())]
        if len(cells) < fields:
            raise ValueError(f"{path}: line {n}: expected {fields} tab-separated fields, "
                             f"got {len(cells)}")
        rows.append(cells)
    return rows


def _epoch(text: str, where: str, tz: ZoneInfo) -> int:
    try:
        return int(datetime.fromisoformat(text).replace(tzinfo=tz).timestamp())
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a date and time") from None


def read_home(sensors: Path, tz: str = TZ) -> Home:
    """A home from its `<Home>_Sensors.txt` and the `<Home>_ADLs.txt` beside it."""
    zone = ZoneInfo(tz)
    adls = sensors.with_name(sensors.name.replace("_Sensors", "_ADLs"))
    if not adls.is_file():
        raise FileNotFoundError(f"{adls} (the labels of {sensors.name}) is missing")
    labels = [(_epoch(r[0], adls.name, zone), _epoch(r[1], adls.name, zone), r[2].lower())
              for r in _rows(adls, 3)]
    events = [(_epoch(r[0], sensors.name, zone), r[2].lower()) for r in _rows(sensors, 3)]
    if not labels or not events:
        raise ValueError(f"{sensors.parent}: {sensors.name} or {adls.name} holds no rows")
    away = np.array([(a, b + 1) for a, b, act in labels if act == ABSENT],
                    dtype=np.int64).reshape(-1, 2)
    order = np.argsort([t for t, _ in events], kind="stable")
    return Home(name=sensors.name.replace("_Sensors.txt", ""),
                start_s=min(a for a, _, _ in labels), end_s=max(b for _, b, _ in labels),
                away=away, sensors=np.array([events[i][0] for i in order], dtype=np.int64),
                sensor_names=np.array([events[i][1] for i in order]))


def read_homes(data: Path) -> list[Home]:
    """Every home under `data` (one `*_Sensors.txt` with its `*_ADLs.txt` each)."""
    files = sorted(Path(data).glob("*_Sensors.txt"))
    if not files:
        raise FileNotFoundError(f"no homes (*_Sensors.txt with *_ADLs.txt) under {data}")
    return [read_home(f) for f in files]


def home_for_whole(home: Home, starts: np.ndarray, hours: int = 2) -> np.ndarray:
    """True where no absence overlaps [start, start + hours)."""
    ends = starts + 3600 * hours
    overlap = (home.away[None, :, 0] < ends[:, None]) & (home.away[None, :, 1] > starts[:, None])
    return ~overlap.any(axis=1)


def moments(home: Home, tz: str = TZ, from_now: bool = False) -> list[tuple[int, np.ndarray]]:
    """(booking instant, candidate window starts) of every booking the home's log allows: the
    windows of the next three days, or (`from_now`) the next 18 windows from the instant on,
    the rest of today's first."""
    zone = ZoneInfo(tz)
    first = datetime.fromtimestamp(home.start_s, zone).date() + timedelta(days=8)
    last = datetime.fromtimestamp(home.end_s, zone).date() - timedelta(days=4)
    out = []
    day = first
    while day <= last:
        for h in BOOK_HOURS:
            now = int(datetime(day.year, day.month, day.day, h, tzinfo=zone).timestamp())
            starts = np.array([int(datetime(d.year, d.month, d.day, w, tzinfo=zone).timestamp())
                               for d in (day + timedelta(days=k) for k in range(4))
                               for w in WINDOW_HOURS], dtype=np.int64)
            ahead = starts[starts > now]
            out.append((now, ahead[:3 * len(WINDOW_HOURS)] if from_now else
                        starts[len(WINDOW_HOURS):]))
        day += timedelta(days=1)
    return out


def evaluate(homes: list[Home], appliances_only: bool, tz: str = TZ,
             from_now: bool = False) -> dict[str, Any]:
    """Home rates of each pick and Brier scores, per home and history, and pooled."""
    prior = population_prior()
    table: dict[str, dict[str, list[float]]] = {}
    zone = ZoneInfo(tz)
    for home in homes:
        keep = np.isin(home.sensor_names, APPLIANCES) if appliances_only else \
            np.ones(home.sensors.size, dtype=bool)
        times = home.sensors[keep]
        for now_s, starts in moments(home, tz, from_now):
            truth = home_for_whole(home, starts)
            p_prior = window_p(prior, starts, tz)
            now = datetime.fromtimestamp(now_s, zone)
            for weeks in HISTORIES:
                since = now - timedelta(weeks=weeks)
                if since.timestamp() < home.start_s:
                    continue
                seen = times[(times >= since.timestamp()) & (times <= now_s)]
                a = predict(seen, tz=tz, now=now, consent=True, observed_since=since)
                p = window_probability(a.p_home, starts, tz, a.p_window)
                hourly = window_p(a.p_home, starts, tz)
                picks = {"model": best_window(p, days=a.days, homebody=a.homebody),
                         "hourly_argmax": int(np.argmax(hourly)),
                         "first_free": 0,
                         "prior_pick": best_window(p_prior, 0.05, tie=0.0)}
                row = table.setdefault(f"{home.name}/{weeks}w", {})
                for name, j in picks.items():
                    row.setdefault(name, []).append(float(truth[j]))
                row.setdefault("oracle", []).append(float(truth.any()))
                row.setdefault("brier", []).append(float(np.mean((p - truth) ** 2)))
                row.setdefault("brier_prior", []).append(float(np.mean((p_prior - truth) ** 2)))
                row.setdefault("events_per_day", []).append(seen.size / (7.0 * weeks))
    pooled = {k: float(np.mean([x for row in table.values() for x in row[k]]))
              for k in ("model", "hourly_argmax", "first_free", "prior_pick", "oracle",
                        "brier", "brier_prior")}
    return {"pooled": pooled, "bookings": sum(len(r["model"]) for r in table.values()),
            "table": {cell: {**{k: round(float(np.mean(v)), 4) for k, v in row.items()},
                             "bookings": len(row["model"])} for cell, row in table.items()}}


def run(settings: object = None, *, quick: bool = False, data: Path | None = None
        ) -> dict[str, Any]:
    """Run the real-homes availability benchmark on the homes under `data`."""
    if data is None:
        raise ValueError("bench homes needs --data DIR (the homes' *_Sensors.txt and *_ADLs.txt)")
    homes = read_homes(data)
    if quick:
        homes = homes[:1]
    runs = {"appliances": evaluate(homes, appliances_only=True),
            "all_sensors": evaluate(homes, appliances_only=False),
            "appliances_from_now": evaluate(homes, appliances_only=True, from_now=True),
            "all_sensors_from_now": evaluate(homes, appliances_only=False, from_now=True)}
    main = runs["appliances"]["pooled"]
    metrics = {"home_rate": main["model"], "hourly_argmax_home_rate": main["hourly_argmax"],
               "brier": main["brier"], "runs": runs}
    baselines = {"first_free_home_rate": main["first_free"],
                 "prior_pick_home_rate": main["prior_pick"], "oracle_home_rate": main["oracle"],
                 "brier_prior": main["brier_prior"]}
    ratios = {"home_rate_vs_first_free": main["model"] / max(main["first_free"], 1e-9),
              "home_rate_vs_oracle": main["model"] / max(main["oracle"], 1e-9),
              "brier_vs_prior": main["brier"] / max(main["brier_prior"], 1e-9)}
    config = {"homes": [h.name for h in homes], "time_zone": TZ, "absent_when": ABSENT,
              "appliances": list(APPLIANCES), "book_hours": list(BOOK_HOURS),
              "histories_weeks": list(HISTORIES), "quick": quick,
              "candidates": "2-hour windows 08:00-20:00 on each of the next three days",
              "truth": "home when no labelled absence overlaps the window"}
    return result("homes", metrics, baselines, ratios, config)
