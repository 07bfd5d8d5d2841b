"""The detect and rul benchmarks' pieces, on small synthetic data (no ../shared needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fixahead.lab.bench import detect, rul
from fixahead.lab.bench.scoring import nab_scores, predicted_changepoints, windows


def test_nab_score_is_100_for_a_perfect_detector_and_0_for_the_null_one() -> None:
    cps = [10, 200]
    assert nab_scores([(cps, cps)], 60)["standard"] == 100.0
    assert nab_scores([(cps, [])], 60) == {"standard": 0.0, "low_fp": 0.0, "low_fn": 0.0}
    late = nab_scores([(cps, [40, 230, 500])], 60)
    assert 0 < late["low_fp"] < late["standard"] < 100


def test_changepoints_are_both_ends_of_each_alarm_run_as_skab_derives_them() -> None:
    alarms = np.array([1, 1, 0, 0, 1, 1, 1, 0, 1])
    assert predicted_changepoints(alarms).tolist() == [0, 2, 4, 7, 8]
    assert predicted_changepoints(np.zeros(3)).tolist() == []


def test_overlapping_windows_cut_the_right_one_and_a_late_hit_scores_less() -> None:
    assert windows([10, 40, 200], 60) == [(10, 70), (70, 100), (200, 260)]
    # one hit at each window start = perfect; the second window's hit 15 s in scores less
    assert nab_scores([([10, 40], [10, 70])], 60)["standard"] == 100.0
    assert nab_scores([([10, 40], [10, 85])], 60)["standard"] < 100.0
    # a second detection in a window counts nothing; one outside every window costs A_fp
    assert nab_scores([([10], [10, 20])], 60)["standard"] == 100.0
    assert nab_scores([([10], [10, 500])], 60)["standard"] == round(100 * (2 - 0.11) / 2, 2)


def _skab_run(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (700, 3))
    lab = np.zeros(700)
    lab[500:650] = 1
    x[500:650] += 5
    cp = np.zeros(700)
    cp[[500, 650]] = 1
    rows = [";".join([f"2020-01-01 {i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}",
                      *map(str, x[i]), str(lab[i]), str(cp[i])]) for i in range(700)]
    path.write_text("datetime;a;b;c;anomaly;changepoint\n" + "\n".join(rows) + "\n")


def test_the_detect_bench_runs_in_quick_mode(tmp_path: Path) -> None:
    (tmp_path / "valve1").mkdir()
    for i in range(3):
        _skab_run(tmp_path / "valve1" / f"{i}.csv", i)
    out = detect.run(quick=True, data=tmp_path)
    assert set(out) == {"bench", "metrics", "baselines", "ratios", "config"}
    assert out["metrics"]["detector"]["at_0_5"]["f1"] > 0.7
    assert {"zscore_window", "previous_detect"} <= set(out["baselines"])


def test_the_rul_bench_runs_in_quick_mode(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)

    def units(n: int, cut: bool) -> tuple[np.ndarray, list[float]]:
        rows, left = [], []
        for u in range(1, n + 1):
            life = int(rng.integers(150, 250))
            stop = int(rng.integers(60, life)) if cut else life
            for c in range(1, stop + 1):
                wear = np.exp(-(life - c) / 40.0)
                rows.append([u, c, 0, 0, 100, *(rng.normal(0, 0.2, 21) + wear)])
            left.append(life - stop)
        return np.array(rows), left

    train, _ = units(30, False)
    test, left = units(10, True)
    np.savetxt(tmp_path / "train_FD001.txt", train)
    np.savetxt(tmp_path / "test_FD001.txt", test)
    np.savetxt(tmp_path / "RUL_FD001.txt", np.array(left))
    out = rul.run(quick=True, data=tmp_path)
    assert out["metrics"]["FD001"]["rmse"] < out["baselines"]["FD001"]["rmse"] * 1.5
    assert "phm08" in out["metrics"]["FD001"]
