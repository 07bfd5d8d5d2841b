"""The generic streaming detector: calibrated scores, the properties the issue asks for,
the kernel against its reference, and the CSV contract."""

from __future__ import annotations

import numpy as np
import pytest

from rules.detect import (
    DetectInputError,
    detect_csv,
    new_state,
    parse_series,
    parse_table,
    score_rows,
    score_series,
)
from tests.support.naive_detect import reference_scores

WARM = 100


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _sine(n: int = 6000, seed: int = 11) -> np.ndarray:
    return 20.0 + 2.0 * np.sin(np.arange(n) * 2 * np.pi / 288) + _rng(seed).normal(0, 0.3, n)


def test_a_noisy_sine_has_no_score_of_one_half() -> None:
    assert score_series(_sine())[WARM:].max() < 0.5


def test_a_spike_gets_one_short_burst_of_high_scores() -> None:
    x = _sine()
    x[3000] += 4.0
    high = np.flatnonzero(score_series(x) >= 0.5)
    assert 3000 in high
    assert high.min() >= 3000 and high.max() <= 3002


def test_a_level_shift_scores_high_then_adapts() -> None:
    x = _rng(2).normal(10.0, 1.0, 6000)
    x[2000:] += 8.0
    s = score_series(x)
    assert s[:2000][WARM:].max() < 0.5
    assert np.mean(s[2000:2300] >= 0.5) > 0.9  # high through the abnormal stretch
    assert s[-1500:].max() < 0.5  # the new level became normal


def test_a_sensor_that_flat_lines_after_noise_alerts() -> None:
    x = 10.0 + _rng(3).normal(0, 1, 4000)
    x[2500:2700] = x[2499]
    s = score_series(x)
    assert s[WARM:2500].max() < 0.5
    assert s[2500:2510].max() >= 0.5


def test_a_slow_drift_alerts_before_it_crosses_four_sigma() -> None:
    x = _rng(5).normal(50.0, 1.0, 3000)
    x[2000:] += np.linspace(0, 6, 1000)
    s = score_series(x)
    assert s[WARM:2000].max() < 0.5
    assert (s[2000:2667] >= 0.5).any()


def test_heavy_tails_rarely_score_one_half() -> None:
    s = score_series(_rng(1).standard_t(2, 6000) * 1e6)
    assert np.all((s >= 0) & (s <= 1))
    assert np.mean(s[WARM:] >= 0.5) < 0.005


def test_a_quantised_series_that_often_repeats_itself_is_not_flagged() -> None:
    s = score_series(np.round(_rng(4).normal(50, 0.3, 3000)))
    assert s[WARM:].max() < 0.5


def test_nan_rows_score_zero_and_leave_the_state_unchanged() -> None:
    x = _sine(800)
    state = new_state(1)
    score_rows(x[:400], state)
    before = [a.copy() for a in state]
    s = score_rows(np.array([np.nan, np.inf, np.nan]), state)
    assert np.all(s == 0.0)
    for a, b in zip(before, state, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_multivariate_mode_catches_a_change_in_correlation() -> None:
    rng = _rng(7)
    z = rng.normal(0, 1, 4000)
    a, b = z + rng.normal(0, 0.1, 4000), z + rng.normal(0, 0.1, 4000)
    b[3000:] = rng.normal(0, 1, 1000)  # same level and spread, no longer correlated
    s = score_rows(np.c_[a, b])
    assert s[WARM:3000].max() < 0.5
    assert s[3000:3020].max() >= 0.5
    assert score_series(b)[3000:3020].max() < 0.5  # invisible to one series alone


def test_each_score_uses_only_rows_up_to_its_own_and_chunks_change_nothing() -> None:
    x = np.c_[_sine(1500), _sine(1500, seed=3)]
    full = score_rows(x)
    state = new_state(2)
    parts = [score_rows(x[a:b], state) for a, b in ((0, 7), (7, 700), (700, 1500))]
    np.testing.assert_array_equal(np.concatenate(parts), full)
    np.testing.assert_array_equal(score_rows(x[:517]), full[:517])


def test_scale_does_not_change_the_scores() -> None:
    x = _sine(1500)
    x[1000] += 3
    for unit in (1e-9, 1e-4, 1e6):
        np.testing.assert_allclose(score_series(x * unit), score_series(x), atol=1e-6)


def _cases() -> dict[str, np.ndarray]:
    rng = _rng(9)
    walk = np.cumsum(rng.normal(0, 1, 900))
    gaps = rng.normal(5, 1, (900, 3))
    gaps[rng.random((900, 3)) < 0.1] = np.nan
    gaps[300:320] = np.nan
    shifted = rng.normal(0, 1, (900, 2))
    shifted[600:] += 6
    const = np.full((300, 1), 4.0)
    const[250] = 5.0
    return {"fixed": np.arange(200.0)[:, None] % 7, "random": rng.normal(0, 1, (900, 1)),
            "walk": walk[:, None], "nan_gaps": gaps, "constant": const, "shift": shifted,
            "quantised": np.round(rng.normal(0, 0.4, (900, 2))),
            "heavy": rng.standard_t(2, (900, 2))}


@pytest.mark.parametrize("name", list(_cases()))
def test_the_kernel_agrees_with_the_reference(name: str) -> None:
    x = _cases()[name]
    np.testing.assert_allclose(score_rows(x), reference_scores(x), rtol=1e-7, atol=1e-9)


def test_csv_round_trip_keeps_timestamps_and_order_and_duplicates() -> None:
    text = "timestamp,value\n2014-02-14 14:25:00,1.5\n2014-02-14 14:25:00,\n1392391800,2\n"
    out = detect_csv(text).splitlines()
    assert out[0] == "timestamp,anomaly_score"
    assert [r.split(",")[0] for r in out[1:]] == [
        "2014-02-14 14:25:00", "2014-02-14 14:25:00", "1392391800"]
    assert all(0.0 <= float(r.split(",")[1]) <= 1.0 for r in out[1:])


def test_multivariate_csv_gives_one_score_per_row() -> None:
    rows = "".join(f"{i},{i % 3},{i % 5 * 0.5}\n" for i in range(50))
    names, _, x = parse_table(("timestamp,pressure,flow\n" + rows).splitlines(keepends=True))
    assert names == ["pressure", "flow"] and x.shape == (50, 2)
    assert len(detect_csv("timestamp;a;b\n1;2;3\n2;2;4\n").splitlines()) == 3


@pytest.mark.parametrize(("text", "message"), [
    ("", "line 1: empty input"),
    ("time,val\n1,2\n", "line 1: header"),
    ("timestamp\n1\n", "line 1: header"),
    ("timestamp,value\n1,2\n2,3,4\n", "line 3: expected 2 fields"),
    ("timestamp,value\n1,2\n2,abc\n", "line 3: value 'abc' is not a number"),
    ("timestamp,value\n1,2\n,3\n", "line 3: timestamp is empty"),
    ("timestamp,value\n5,2\n4,3\n", "line 3: timestamp '4' is before the previous"),
    ("timestamp,value\nyesterday,2\n", "line 2: timestamp 'yesterday' is neither"),
])
def test_malformed_csv_is_rejected_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(DetectInputError, match=message):
        parse_series(text.splitlines(keepends=True))


def test_a_huge_input_is_rejected_naming_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import rules.detect

    monkeypatch.setattr(rules.detect, "MAX_ROWS", 3)
    with pytest.raises(DetectInputError, match="line 5: more than 3 rows"):
        parse_series("timestamp,value\n1,1\n2,1\n3,1\n4,1\n".splitlines(keepends=True))
