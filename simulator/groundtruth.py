"""Ground truth of a run as plain files in one directory, and a reader for them.

- `run.json`: seed, window, households, shard, topic prefix, the ingest setting it needs;
- `fleet.json`: households (people's roles, vacation) and devices (id, model, household);
- `faults.jsonl`: one fault a line (see `simulator.faults.Fault`);
- `network.jsonl`: one episode of network trouble a line;
- `presence.jsonl`: per household, minutes at home in each 15-minute slot from `start_ms`.
A sharded run writes `*.jsonl` and `fleet.json` with a `.shard-i-of-n` suffix before `.json*`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from simulator.plan import Scenario
from simulator.timebase import DAY_MS, SLOT_MS


def _name(base: str, scenario: Scenario) -> str:
    s = scenario.shard
    if s.count == 1:
        return base
    stem, ext = base.split(".", 1)
    return f"{stem}.shard-{s.index}-of-{s.count}.{ext}"


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")


def write_ground_truth(out: Path, scenario: Scenario, **run_info: Any) -> list[Path]:
    """Write the scenario's ground truth under `out`; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    w = scenario.window
    run = {"seed": scenario.seed, "tag": scenario.fleet.tag, "start_ms": w.start_ms,
           "end_ms": w.end_ms, "households": len(scenario.fleet.households),
           "devices": len(scenario.fleet.devices),
           "shard": [scenario.shard.index, scenario.shard.count], **run_info}
    owned = {h for h in scenario.presence}
    fleet = {
        "households": [{"id": h.id, "index": h.index, "kind": h.kind,
                        "people": [asdict(p) for p in h.people],
                        "vacation_days": list(h.vacation) if h.vacation else None}
                       for h in scenario.fleet.households if h.id in owned],
        "devices": [asdict(d) for d in scenario.devices],
    }
    paths = [out / _name("run.json", scenario), out / _name("fleet.json", scenario),
             out / _name("faults.jsonl", scenario), out / _name("network.jsonl", scenario),
             out / _name("presence.jsonl", scenario)]
    paths[0].write_text(json.dumps(run, indent=2))
    paths[1].write_text(json.dumps(fleet, indent=1))
    _jsonl(paths[2], [f.as_record() for f in scenario.faults])
    _jsonl(paths[3], [n.as_record() for n in scenario.network])
    _jsonl(paths[4], [{"household": hh, "start_ms": w.first_day * DAY_MS,
                       "slot_s": SLOT_MS // 1000, "minutes_home": mins.tolist()}
                      for hh, mins in scenario.presence.items()])
    return paths


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_ground_truth(out: Path) -> dict[str, Any]:
    """All ground truth in a directory, shards merged: run, households, devices, faults,
    network, presence (household -> (start_ms, slot_s, minutes list))."""
    runs = sorted(out.glob("run*.json"))
    if not runs:
        raise FileNotFoundError(f"{out}: no run.json (is this a ground-truth directory?)")
    truth: dict[str, Any] = {"run": json.loads(runs[0].read_text()), "households": [],
                             "devices": [], "faults": [], "network": [], "presence": {}}
    for path in sorted(out.glob("fleet*.json")):
        doc = json.loads(path.read_text())
        truth["households"] += doc["households"]
        truth["devices"] += doc["devices"]
    for key in ("faults", "network"):
        for path in sorted(out.glob(f"{key}*.jsonl")):
            truth[key] += read_jsonl(path)
    for path in sorted(out.glob("presence*.jsonl")):
        for row in read_jsonl(path):
            truth["presence"][row["household"]] = (row["start_ms"], row["slot_s"],
                                                   row["minutes_home"])
    return truth
