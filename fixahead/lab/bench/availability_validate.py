"""Choose between availability variants on validation seeds, never on the bench's seed.

`python -m fixahead.lab.bench.availability_validate [SEED ...]` runs the bench's evaluation
(`fixahead.lab.bench.availability.evaluate`, 80 households per kind) on each seed (default
`VALIDATION_SEEDS`: neither the fit seeds 7, 13, 17 nor the bench's seed 1) and prints, per
seed and on average, the model's share of the oracle's home rate and its worst margin over
the first free slot (points, over household kinds and histories).
"""

from __future__ import annotations

import sys

import numpy as np

from fixahead.lab.bench.availability import evaluate, points_over_first_free

VALIDATION_SEEDS = (2, 3, 4, 5, 6)


def summary(r: dict[str, object]) -> tuple[float, float, str]:
    """(share of the oracle, worst points over the first free slot, the worst cell)."""
    pooled, table = r["pooled"], r["table"]
    assert isinstance(pooled, dict) and isinstance(table, dict)
    margins = points_over_first_free(table)
    worst = min(margins, key=margins.__getitem__)
    return pooled["model"] / pooled["oracle"], margins[worst], worst


def main(seeds: tuple[int, ...] = VALIDATION_SEEDS, per_kind: int = 80) -> None:
    shares, worsts = [], []
    for seed in seeds:
        share, worst, cell = summary(evaluate(per_kind, seed))
        shares.append(share)
        worsts.append(worst)
        print(f"seed {seed}: share {share:.4f}, worst {worst:+.1f} points ({cell})", flush=True)
    print(f"mean share {np.mean(shares):.4f} (min {min(shares):.4f}), mean worst "
          f"{np.mean(worsts):+.1f} (min {min(worsts):+.1f}), seeds below first free: "
          f"{sum(w < 0 for w in worsts)} of {len(seeds)}")


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or VALIDATION_SEEDS)
