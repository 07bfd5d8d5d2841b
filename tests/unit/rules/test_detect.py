"""The generic streaming detector scores injected anomalies clearly above normal rows."""

from __future__ import annotations

import numpy as np
import pytest

from rules.detect import DetectInputError, detect_csv, parse_series, score_series


def _noise(n: int = 3000, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 20.0 + 2.0 * np.sin(np.arange(n) * 2 * np.pi / 288) + rng.normal(0, 0.3, n)


def _normal_max(scores: np.ndarray, anomalies: list[tuple[int, int]]) -> float:
    keep = np.ones(scores.size, bool)
    keep[:300] = False
    for a, b in anomalies:
        keep[a - 5:b + 300] = False
    return float(scores[keep].max())


def test_a_spike_scores_far_above_every_normal_row() -> None:
    x = _noise()
    x[2000] += 4.0
    s = score_series(x)
    assert s[2000] > 0.9
    assert s[2000] > _normal_max(s, [(2000, 2001)]) + 0.3


def test_a_level_shift_scores_above_every_normal_row() -> None:
    x = _noise()
    x[2000:] += 3.5
    s = score_series(x)
    assert s[2000:2030].max() > _normal_max(s, [(2000, 2030)]) + 0.2


def test_a_slow_drift_is_flagged_before_it_has_gone_far() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(50.0, 1.0, 3000)
    x[2000:] += np.linspace(0, 6, 1000)
    s = score_series(x)
    first = 2000 + int(np.argmax(s[2000:] > s[300:2000].max()))
    assert s[2000:].max() > s[300:2000].max() + 0.15
    assert first < 2500  # less than 3 standard deviations into the drift


def test_scores_are_in_unit_interval_and_warm_up_is_quiet() -> None:
    s = score_series(np.random.default_rng(1).standard_t(2, 2000) * 1e6)
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(s[:32] == 0.0)


def test_each_score_uses_only_rows_up_to_its_own() -> None:
    x = _noise(1200)
    full = score_series(x)
    for cut in (100, 517, 1199):
        np.testing.assert_array_equal(score_series(x[:cut]), full[:cut])


def test_a_constant_series_scores_zero_until_it_moves() -> None:
    x = np.full(500, 7.0)
    x[400] = 7.5
    s = score_series(x)
    assert s[:400].max() == 0.0
    assert s[400] > 0.99


def test_missing_values_score_zero_and_do_not_disturb_the_rest() -> None:
    x = _noise(800)
    holes = x.copy()
    holes[[300, 301, 650]] = np.nan
    s = score_series(holes)
    assert s[300] == s[301] == s[650] == 0.0
    assert np.all(np.isfinite(s))


def test_scale_does_not_change_the_scores() -> None:
    x = _noise(1500)
    x[1000] += 3
    for unit in (1e-9, 1e-4, 1e6):
        np.testing.assert_allclose(score_series(x * unit), score_series(x), atol=1e-6)


def test_csv_round_trip_keeps_timestamps_and_order() -> None:
    text = "timestamp,value\n2014-02-14 14:30:00,1.5\n2014-02-14 14:25:00,\n1392388800,2\n"
    out = detect_csv(text).splitlines()
    assert out[0] == "timestamp,anomaly_score"
    assert [r.split(",")[0] for r in out[1:]] == [
        "2014-02-14 14:30:00", "2014-02-14 14:25:00", "1392388800"]
    assert all(0.0 <= float(r.split(",")[1]) <= 1.0 for r in out[1:])


@pytest.mark.parametrize(("text", "message"), [
    ("", "line 1"),
    ("time,val\n1,2\n", "line 1: header"),
    ("timestamp,value\n1,2\n2,3,4\n", "line 3: expected 2 fields"),
    ("timestamp,value\n1,2\n2,abc\n", "line 3: value 'abc' is not a number"),
    ("timestamp,value\n1,2\n,3\n", "line 3: timestamp is empty"),
])
def test_malformed_csv_is_rejected_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(DetectInputError, match=message):
        parse_series(text.splitlines(keepends=True))


def test_a_flat_lined_sensor_is_flagged_within_a_short_window() -> None:
    rng = np.random.default_rng(3)
    x = 10.0 + rng.normal(0, 1, 4000)
    x[2500:2700] = x[2499]
    s = score_series(x)
    assert s[2500:2540].max() > s[300:2490].max() + 0.3


def test_a_quantised_series_that_often_repeats_itself_is_not_flagged_for_it() -> None:
    x = np.round(np.random.default_rng(4).normal(50, 0.3, 3000))
    s = score_series(x)
    assert np.percentile(s[300:], 99.5) < 0.6


def test_a_byte_order_mark_and_extra_columns_are_accepted() -> None:
    out = detect_csv("\ufefftimestamp,value,label\n1,2.5,0\n2,2.5,0\n").splitlines()
    assert out == ["timestamp,anomaly_score", "1,0.000000", "2,0.000000"]
