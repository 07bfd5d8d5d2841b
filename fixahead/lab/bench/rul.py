"""`fixahead bench rul --data DIR`: remaining life on NASA C-MAPSS (FD001-FD004).

Per subset, a model fitted on the run-to-failure `train` units predicts each `test` unit's
remaining cycles at its last row: RMSE and the PHM08 score against `RUL_*` (truth capped at
RUL_CAP, the usual convention). Flags: on a fifth of the train units held out from a second
fit, a unit is flagged once its estimate drops to FLAG_CYCLES; "early" when that happens at
least 10 cycles before its failure, "false" when more than 2 x FLAG_CYCLES before. Baseline in
the same run: a linear health index (sensors regressed onto 1 at start of life, 0 at
failure) whose last 30 cycles are extrapolated linearly to 0.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np

from fixahead.lab.bench.common import result
from rules.remaining_life import RUL_CAP, fit, predict

FLAG_CYCLES = 30.0
SUBSETS = ("FD001", "FD002", "FD003", "FD004")


def load(path: Path) -> np.ndarray:
    """A C-MAPSS table (gzip or plain text, space-separated)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return np.loadtxt(f, ndmin=2)


def _file(data: Path, name: str) -> Path:
    for p in (data / f"{name}.txt.gz", data / f"{name}.txt"):
        if p.exists():
            return p
    raise FileNotFoundError(f"no {name}.txt(.gz) under {data}")


def phm08(d: np.ndarray) -> float:
    """PHM08 score of errors d = predicted - true (late predictions cost more)."""
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1, np.exp(d / 10.0) - 1)))


def _last_rows(unit: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[unit[1:] != unit[:-1], True])


def health_baseline(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Remaining cycles at each test unit's last row by linear health-index extrapolation."""
    unit, cycle, sens = train[:, 0], train[:, 1], train[:, 5:]
    life = np.array([cycle[unit == u].max() for u in unit])
    keep = sens.std(0) > 1e-6
    x = np.c_[np.ones(len(sens)), sens[:, keep]]
    coef = np.linalg.lstsq(x, 1.0 - cycle / life, rcond=None)[0]
    hi = np.c_[np.ones(len(test)), test[:, 5:][:, keep]] @ coef
    out = []
    for u in np.unique(test[:, 0]):
        idx = np.flatnonzero(test[:, 0] == u)[-30:]
        slope, icpt = np.polyfit(test[idx, 1], hi[idx], 1) if len(idx) > 2 else (0.0, 1.0)
        now = test[idx[-1], 1]
        out.append(RUL_CAP if slope >= 0 else (icpt + slope * now) / -slope)
    return np.clip(np.array(out), 0.0, RUL_CAP)


def _flags(train: np.ndarray) -> dict[str, Any]:
    units = np.unique(train[:, 0])
    held = units[::5]
    mask = np.isin(train[:, 0], held)
    tr, ho = train[~mask], train[mask]
    model = fit(tr[:, 0], tr[:, 1], tr[:, 2:5], tr[:, 5:])
    est, _, _ = predict(model, ho[:, 0], ho[:, 2:5], ho[:, 5:])
    early = false = 0
    for u in held:
        idx = np.flatnonzero(ho[:, 0] == u)
        true_left = ho[idx, 1].max() - ho[idx, 1]
        hit = np.flatnonzero(est[idx] <= FLAG_CYCLES)
        if hit.size:
            early += int(true_left[hit[0]] >= 10)
            false += int(true_left[hit[0]] > 2 * FLAG_CYCLES)
    return {"units": len(held), "flagged_10_cycles_early": round(early / len(held), 3),
            "false_flags": false}


def run(settings: Any = None, *, quick: bool = False, data: Path | None = None) -> dict[str, Any]:
    """Run the benchmark on C-MAPSS under `data` and return the standard result."""
    if data is None:
        raise ValueError("bench rul needs --data DIR (C-MAPSS folder)")
    data = Path(data)
    metrics: dict[str, Any] = {}
    baselines: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    for name in SUBSETS[:1] if quick else SUBSETS:
        train = load(_file(data, f"train_{name}"))
        test = load(_file(data, f"test_{name}"))
        truth = np.minimum(load(_file(data, f"RUL_{name}"))[:, 0], RUL_CAP)
        model = fit(train[:, 0], train[:, 1], train[:, 2:5], train[:, 5:])
        est, lo, hi = predict(model, test[:, 0], test[:, 2:5], test[:, 5:])
        last = _last_rows(test[:, 0])
        d = est[last] - truth
        inside = float(np.mean((truth >= lo[last]) & (truth <= hi[last])))
        metrics[name] = {"rmse": round(float(np.sqrt(np.mean(d ** 2))), 2),
                         "phm08": round(phm08(d), 1), "range_covers_truth": round(inside, 3),
                         **_flags(train)}
        b = health_baseline(train, test) - truth
        baselines[name] = {"rmse": round(float(np.sqrt(np.mean(b ** 2))), 2),
                           "phm08": round(phm08(b), 1)}
        ratios[f"{name}_rmse_vs_baseline"] = round(
            metrics[name]["rmse"] / max(baselines[name]["rmse"], 1e-9), 3)
    config = {"data": str(data), "quick": quick, "rul_cap": RUL_CAP, "flag_cycles": FLAG_CYCLES,
              "targets": {"FD001_rmse": 18, "FD004_rmse": 30}}
    return result("rul", metrics, baselines, ratios, config)
