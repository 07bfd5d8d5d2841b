"""The generic detector inside the rule engine (rules/generic.py, rules/kernels/generic.py)."""

from __future__ import annotations

import numpy as np

from devices.catalog import load_catalog
from rules.compiler import compile_rules
from rules.detect import score_rows
from rules.engine import Engine
from rules.generic import GenericDetector, uncovered
from rules.loader import load_packs

MIN = 60_000
T0 = 1_767_225_600_000
CATALOG = load_catalog()
COMPILED = compile_rules(load_packs(CATALOG), CATALOG)
CURRENT = CATALOG["HP-900"].metric("compressor_current").id  # no rule reads it
PRESSURE = CATALOG["HP-900"].metric("high_pressure").id      # rules read it


def _reference(ts, x, on=0.5, rows=10, min_ms=30 * MIN):
    """Scores of one series by `fixahead detect`, and its flips by the sustain rule."""
    scores = score_rows(x)
    flips, high, since, alarm, low = [], 0, 0, False, 0
    for t, v, s in zip(ts.tolist(), x.tolist(), scores.tolist(), strict=True):
        if np.isnan(v):
            continue
        if s >= on:
            low = 0
            since = t if high == 0 else since
            high += 1
            if not alarm and high >= rows and t - since >= min_ms:
                alarm = True
                flips.append((t, True))
        else:
            high = 0
            if alarm:
                low += 1
                if low >= rows:
                    alarm, low = False, 0
                    flips.append((t, False))
    return flips


def _series(seed: int, n: int = 3000, shift_at: int | None = 2000):
    rng = np.random.default_rng(seed)
    x = 10.0 + rng.normal(0, 0.3, n)
    if shift_at is not None:
        x[shift_at:shift_at + 200] += 4.0  # a 200-minute stretch well off normal
    x[rng.random(n) < 0.01] = np.nan
    return T0 + MIN * np.arange(n, dtype=np.int64), x


def test_uncovered_metrics_are_those_no_rule_reads() -> None:
    free = uncovered(COMPILED, CATALOG)
    assert CURRENT in free["HP-900"] and PRESSURE not in free["HP-900"]
    assert free["WM-800"] == {}


def test_kernel_matches_the_reference_over_interleaved_batches() -> None:
    """Three heat pumps' compressor currents, interleaved and cut into uneven batches (with a
    late repeat), give each series exactly the flips of `fixahead detect` + the sustain rule."""
    gen = GenericDetector(COMPILED, CATALOG)
    model_of = {1: "HP-900", 2: "HP-900", 3: "HP-900"}
    series = {1: _series(1), 2: _series(2, shift_at=None), 3: _series(3, shift_at=1200)}
    rows = sorted((int(t), d, float(v)) for d, (ts, x) in series.items()
                  for t, v in zip(ts, x, strict=True))
    got: dict[int, list] = {1: [], 2: [], 3: []}
    cuts = np.cumsum(np.random.default_rng(0).integers(1, 700, 40))
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(rows)], strict=True):
        part = rows[a:b]
        if not part:
            continue
        if a:
            part = [rows[a - 1], *part]  # a repeat of the last reading: skipped as late
        ts = np.array([r[0] for r in part], np.int64)
        dev = np.array([r[1] for r in part], np.int32)
        val = np.array([r[2] for r in part])
        for s in gen.process(ts, dev, np.full(len(ts), CURRENT, np.int16), val, model_of):
            assert s.fault == "ANOMALY:compressor_current" and s.severity == "info"
            got[s.device].append((s.ts_ms, s.on))
    for d, (ts, x) in series.items():
        assert got[d] == _reference(ts, x), d
    assert got[2] == [] and len(got[1]) == 2 and got[1][0][1]


def test_the_engine_opens_one_info_incident_per_abnormal_stretch_only_when_asked() -> None:
    ts, x = _series(4)
    dev = np.full(len(ts), 9, np.int32)
    mt = np.full(len(ts), CURRENT, np.int16)
    for generic, want in ((False, []), (True, [("ANOMALY:compressor_current", "info")])):
        engine = Engine(COMPILED, CATALOG, generic=generic)
        engine.assign([9], ["HP-900"])
        opened = []
        for a in range(0, len(ts), 250):
            opened += [(c.incident.fault, c.incident.severity) for c in engine.process(
                ts[a:a + 250], dev[a:a + 250], mt[a:a + 250], x[a:a + 250])
                if c.change == "opened"]
        assert opened == want


def test_metrics_a_rule_reads_are_left_to_the_rules() -> None:
    gen = GenericDetector(COMPILED, CATALOG)
    ts, x = _series(5)
    out = gen.process(ts, np.full(len(ts), 1, np.int32), np.full(len(ts), PRESSURE, np.int16),
                      x, {1: "HP-900"})
    assert out == [] and gen.index == {}
