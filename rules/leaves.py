"""Parsers of leaf conditions: TOML parameters in, a validated `Predicate` out.

Each predicate's `params` is the kernel's parameter row (see `rules.kernels.predicates`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devices.catalog import Model
from rules.config import MAX_ERROR_COUNT, MAX_RATE_WHILE_SAMPLES, MAX_ROBUST_WINDOW
from rules.model import Predicate

PER = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
DIRECTION = {"up": 1.0, "down": -1.0, "both": 0.0, "rising": 1.0, "falling": -1.0}


class RuleError(ValueError):
    """A rule file that cannot be loaded; the message names file, rule and field."""


class _Fields:
    def __init__(self, where: str, body: dict[str, Any], model: Model) -> None:
        self.where, self.body, self.model = where, body, model
        self.used: set[str] = set()

    def num(self, key: str, default: float | None = None, lo: float | None = None,
            hi: float | None = None) -> float:
        self.used.add(key)
        value = self.body.get(key, default)
        if value is None:
            raise RuleError(f"{self.where}: field {key!r} is missing")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RuleError(f"{self.where}: field {key!r} must be a number")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise RuleError(f"{self.where}: field {key!r} must be within [{lo}, {hi}]")
        return float(value)

    def choice(self, key: str, choices: dict[str, float], default: str) -> float:
        self.used.add(key)
        value = self.body.get(key, default)
        if value not in choices:
            raise RuleError(f"{self.where}: field {key!r} must be one of {', '.join(choices)}")
        return choices[value]

    def metric(self, key: str = "metric") -> str:
        self.used.add(key)
        name = self.body.get(key)
        names = [m.name for m in self.model.metrics]
        if name not in names:
            raise RuleError(f"{self.where}: field {key!r} {name!r} is not a metric of "
                            f"{self.model.id} ({', '.join(names)})")
        return str(name)

    def one_of(self, *keys: str) -> str:
        present = [k for k in keys if k in self.body]
        if len(present) != 1:
            raise RuleError(f"{self.where}: exactly one of fields {', '.join(keys)} is needed")
        return present[0]

    def done(self, kind: str, metric: str | None, params: list[float],
             code: str | None = None, gate: str | None = None) -> Predicate:
        extra = set(self.body) - self.used
        if extra:
            raise RuleError(f"{self.where}: unknown field {sorted(extra)[0]!r}")
        return Predicate(kind, metric, tuple(params), code, gate)


def threshold(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """x above/below a level for a minimum time; clears past `clear`."""
    f = _Fields(where, body, model)
    metric = f.metric()
    side = f.one_of("above", "below")
    on = f.num(side)
    off = f.num("clear", on)
    sign = 1.0 if side == "above" else -1.0
    if (off - on) * sign > 0:
        raise RuleError(f"{where}: field 'clear' must be on the safe side of {side!r}")
    return f.done("threshold", metric, [on, off, f.num("for_s", 0.0, 0.0) * 1000.0, sign])


def rate(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """Rate of change beyond a limit per `per` (rise, fall or change either way), measured
    over at least `span_s` seconds (default: against the previous sample)."""
    f = _Fields(where, body, model)
    metric = f.metric()
    side = f.one_of("rise", "fall", "change")
    per = f.choice("per", PER, "hour")
    limit = f.num(side, lo=0.0)
    clear = f.num("clear", limit / 2, lo=0.0, hi=limit)
    sign = {"rise": 1.0, "fall": -1.0, "change": 0.0}[side]
    span = f.num("span_s", 0.0, 0.0) * 1000.0
    return f.done("rate", metric, [limit / per, clear / per, sign, span])


def rate_while(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """Median rate of change of `metric` per `per`, between consecutive samples of it taken
    while metric `gate` is above `gate_above`, over the last `window_s` (at least
    `min_samples` rates, at most the newest `max_samples`), at or past a limit (`below` or
    `above`); clears past `clear` (default: the limit)."""
    f = _Fields(where, body, model)
    metric = f.metric()
    gate = f.metric("gate")
    if gate == metric:
        raise RuleError(f"{where}: field 'gate' must be another metric than 'metric'")
    level = f.num("gate_above")
    side = f.one_of("above", "below")
    per = f.choice("per", PER, "hour")
    limit = f.num(side)
    clear = f.num("clear", limit)
    sign = 1.0 if side == "above" else -1.0
    if (clear - limit) * sign > 0:
        raise RuleError(f"{where}: field 'clear' must be on the safe side of {side!r}")
    window = f.num("window_s", lo=1.0) * 1000.0
    ring = int(f.num("max_samples", 64, 1, MAX_RATE_WHILE_SAMPLES))
    least = f.num("min_samples", min(ring, 10), 1, ring)
    return f.done("rate_while", metric, [sign * limit / per, sign * clear / per, sign, window,
                                         least, ring, level, -1.0], gate=gate)


def ewma_z(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """z-score against an exponentially weighted mean and variance."""
    f = _Fields(where, body, model)
    metric = f.metric()
    z = f.num("z", 4.0, lo=0.0)
    return f.done("ewma_z", metric, [f.num("alpha", 0.05, 1e-6, 1.0), z,
                                     f.num("clear", z / 2, 0.0, z),
                                     f.choice("direction", DIRECTION, "both"),
                                     f.num("min_samples", 20, 1)])


def robust_z(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """z-score against the median and MAD of a window of samples."""
    f = _Fields(where, body, model)
    metric = f.metric()
    z = f.num("z", 4.0, lo=0.0)
    window = int(f.num("window", 32, 3, MAX_ROBUST_WINDOW))
    return f.done("robust_z", metric, [window, z, f.num("clear", z / 2, 0.0, z),
                                       f.choice("direction", DIRECTION, "both"),
                                       f.num("min_samples", min(window, 10), 1, window)])


def cusum(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """CUSUM drift against a baseline learnt from the first `warmup` samples."""
    f = _Fields(where, body, model)
    metric = f.metric()
    h = f.num("h", 8.0, lo=0.0)
    return f.done("cusum", metric, [f.num("k", 0.5, 0.0), h, f.num("clear", h / 2, 0.0, h),
                                    f.choice("direction", DIRECTION, "both"),
                                    f.num("warmup", 30, 2)])


def trend(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """Weighted linear trend predicting that `limit` is reached within `horizon_days`, once
    its slope is significant (t statistic at least `min_t`)."""
    f = _Fields(where, body, model)
    metric = f.metric()
    limit = f.num("limit")
    default = "rising" if limit >= model.metric(metric).typical[1] else "falling"
    return f.done("trend", metric, [limit, f.num("horizon_days", lo=0.0),
                                    f.num("tau_days", 7.0, 1e-6),
                                    f.choice("direction", DIRECTION, default),
                                    f.num("min_samples", 5, 2), f.num("min_t", 3.0, 0.0),
                                    f.num("min_span_days", 1.0, 0.0)])


def stuck(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """A flat-lined sensor: within `eps` for `for_s` seconds and `min_samples` samples."""
    f = _Fields(where, body, model)
    metric = f.metric()
    return f.done("stuck", metric, [f.num("eps", 0.0, 0.0), f.num("for_s", lo=0.0) * 1000.0,
                                    f.num("min_samples", 3, 1)])


def silent(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """Missing heartbeat: no reading at all for `for_s` seconds."""
    f = _Fields(where, body, model)
    return f.done("silent", None, [f.num("for_s", lo=1.0) * 1000.0])


def error_count(where: str, body: dict[str, Any], model: Model) -> Predicate:
    """At least `count` events with error `code` within `within_s` seconds."""
    f = _Fields(where, body, model)
    f.used.add("code")
    code = body.get("code")
    if code not in {c.code for c in model.codes}:
        raise RuleError(f"{where}: field 'code' {code!r} is not an error code of {model.id}")
    count = f.num("count", 1, 1, MAX_ERROR_COUNT)
    return f.done("error_count", None, [int(count), f.num("within_s", lo=1.0) * 1000.0, -1.0],
                  str(code))


LEAVES: dict[str, Callable[[str, dict[str, Any], Model], Predicate]] = {
    f.__name__: f for f in (threshold, rate, rate_while, ewma_z, robust_z, cusum, trend, stuck,
                            silent, error_count)
}
