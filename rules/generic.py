"""The generic detector inside the rule engine: every metric no rule pack covers (pure).

Per (device, metric) the streaming detector of `fixahead detect` (rules/kernels/detect.py)
scores each reading from the readings before it; a stretch of scores >= GENERIC_ON lasting
GENERIC_MIN_ROWS rows and GENERIC_MIN_MS becomes one signal for the fault
`ANOMALY:<metric>` (severity info, self-help, kind prediction). No catalog knows these codes,
so dispatch emails no one about them: they are for the scheduler's board. The incident
lifecycle (clean period, reopening) turns one abnormal stretch into one incident.
"""

from __future__ import annotations

import numpy as np

from devices.catalog import Model
from rules.compiler import CompiledRules
from rules.config import GENERIC_MIN_MS, GENERIC_MIN_ROWS, GENERIC_ON
from rules.detect import new_state
from rules.incidents import Signal
from rules.kernels.generic import LAST, SUS, generic_runs
from rules.model import predicates

PREFIX = "ANOMALY:"
KEY = 1 << 16  # series key = device * KEY + metric id


def uncovered(compiled: CompiledRules, catalog: dict[str, Model]) -> dict[str, dict[int, str]]:
    """Per model, the metrics (id -> name) that no rule's predicate reads (as its metric or,
    for rate_while, as its gate)."""
    used = {(r.model, m) for r in compiled.rules for p in predicates(r.when)
            for m in (p.metric, p.gate) if m}
    return {mid: {m.id: m.name for m in model.metrics if (mid, m.name) not in used}
            for mid, model in catalog.items()}


class GenericDetector:
    """Detector state per (device, metric) series of the uncovered metrics."""

    def __init__(self, compiled: CompiledRules, catalog: dict[str, Model], *,
                 on_score: float = GENERIC_ON, min_rows: int = GENERIC_MIN_ROWS,
                 min_ms: int = GENERIC_MIN_MS, capacity: int = 64) -> None:
        self.metrics = uncovered(compiled, catalog)
        self.models = sorted(self.metrics)
        width = 1 + max((m.id for model in catalog.values() for m in model.metrics), default=0)
        self.wanted = np.zeros((len(self.models) + 1, width), np.bool_)  # last row: unknown
        for i, mid in enumerate(self.models):
            self.wanted[i, list(self.metrics[mid])] = True
        self.on_score, self.min_rows, self.min_ms = on_score, min_rows, min_ms
        self.index: dict[int, int] = {}  # series key -> state row
        self.state = self._empty(capacity)

    @staticmethod
    def _empty(n: int) -> list[np.ndarray]:
        sus = np.zeros((n, SUS))
        sus[:, LAST] = -np.inf
        return [np.repeat(a[None], n, 0) for a in new_state(1)] + [sus]

    def _rows(self, keys: np.ndarray) -> np.ndarray:
        fresh = [int(k) for k in keys.tolist() if int(k) not in self.index]
        need = len(self.index) + len(fresh)
        if need > self.state[0].shape[0]:
            more = self._empty(max(need, 2 * self.state[0].shape[0]) - self.state[0].shape[0])
            self.state = [np.concatenate([a, b]) for a, b in zip(self.state, more, strict=True)]
        for k in fresh:
            self.index[k] = len(self.index)
        return np.array([self.index[int(k)] for k in keys.tolist()], np.int64)

    def _model_rows(self, device: np.ndarray, model_of: dict[int, str]) -> np.ndarray:
        devs, inv = np.unique(device, return_inverse=True)
        pos = {m: i for i, m in enumerate(self.models)}
        idx = np.array([pos.get(model_of.get(int(d), ""), len(self.models))
                        for d in devs.tolist()], np.int64)
        return idx[inv]

    def process(self, ts_ms: np.ndarray, device: np.ndarray, metric: np.ndarray,
                value: np.ndarray, model_of: dict[int, str]) -> list[Signal]:
        """Feed a batch; the signals of series whose anomaly started or ended in it."""
        if not len(ts_ms):
            return []
        mt = np.asarray(metric, np.int64)
        ok = (mt >= 0) & (mt < self.wanted.shape[1])
        ok[ok] = self.wanted[self._model_rows(np.asarray(device)[ok], model_of), mt[ok]]
        if not ok.any():
            return []
        ts = np.asarray(ts_ms, np.int64)[ok]
        dev = np.asarray(device, np.int64)[ok]
        mt, val = mt[ok], np.asarray(value, np.float64)[ok]
        keys, inv = np.unique(dev * KEY + mt, return_inverse=True)
        k = self._rows(keys)[inv]
        order = np.lexsort((ts, k))
        ts, k, val, dev, mt = ts[order], k[order], val[order], dev[order], mt[order]
        sus = self.state[-1]
        prev = np.empty(len(ts))
        prev[1:] = ts[:-1]
        first = np.ones(len(ts), np.bool_)
        first[1:] = k[1:] != k[:-1]
        prev[first] = sus[k[first], LAST]
        keep = ts > prev  # late or repeated readings of a series are skipped
        ts, k, val, dev, mt = ts[keep], k[keep], val[keep], dev[keep], mt[keep]
        if not len(ts):
            return []
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        score = np.zeros(len(ts))
        flip = np.zeros(len(ts), np.int8)
        generic_runs(ts, np.ascontiguousarray(val[:, None]), np.r_[starts, len(ts)], k[starts],
                     *self.state, self.on_score, self.min_rows, float(self.min_ms), score, flip)
        out = []
        for i in np.flatnonzero(flip).tolist():
            d, m = int(dev[i]), int(mt[i])
            name = self.metrics[model_of[d]][m]
            out.append(Signal(
                device=d, fault=PREFIX + name, source=f"generic:{name}", on=bool(flip[i] > 0),
                ts_ms=int(ts[i]), kind="prediction", severity="info", action="self_help",
                title=f"Unusual {name.replace('_', ' ')} readings",
                reading=(("ts_ms", float(ts[i])), ("metric", float(m)),
                         ("value", float(val[i])), ("score", float(score[i])))))
        return out
