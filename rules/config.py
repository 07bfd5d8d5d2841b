"""Every tunable of the rule engine and the generic detector, in one place."""

from __future__ import annotations

# --- predicates -------------------------------------------------------------------------
# A robust scale never drops below this fraction of (1 + |median|): a flat window is not an
# infinitely certain one.
SCALE_FLOOR = 1e-6
# MAD of a normal sample times this is its standard deviation.
MAD_TO_SIGMA = 1.4826
# Trend predicates clear only once the predicted time to the limit exceeds horizon * this.
TREND_CLEAR_FACTOR = 1.5
# State columns each predicate keeps before its own (active flag, last score).
PRED_HEADER = 2
# Longest window a robust_z predicate may ask for (its ring buffer lives in the state row).
MAX_ROBUST_WINDOW = 256
# Most events an error_count predicate may count (its ring buffer lives in the state row).
MAX_ERROR_COUNT = 64

# Time-driven predicates (silent devices, error-count expiry) are re-checked for every device
# when event time has advanced this far since the last check.
TICK_EVERY_MS = 60_000

# --- late and out-of-order samples ------------------------------------------------------
# A sample whose event time is not after the (device, metric) watermark is stored by ingest
# but not fed to stateful predicates; it is counted in `Engine.late_samples`.
LATE_POLICY = "drop-at-or-before-watermark"

# --- the generic streaming detector (`fixahead detect`, rules/kernels/detect.py) --------
# Everything counts rows, not seconds: a detector that never sees the sampling clock is
# unaffected by irregular sampling.
DETECT_WARMUP = 400            # rows (with at least one value) before any non-zero score
DETECT_FAST_ALPHA = 0.1        # EWMA weight of the fast level (the one-step prediction)
DETECT_FAST_VAR_ALPHA = 0.01   # EWMA weight of the fast spread: rare steps keep it from collapsing
DETECT_SLOW_ROWS = 1000        # memory (rows) of the slow baseline: mean, spread, correlations
DETECT_SMOOTH = 0.05           # EWMA weight of the smoothed deviation (drift, sustained shift)
DETECT_CLIP = 4.0              # updates see deviations clipped to this many sigmas (heavy tails)
DETECT_RIDGE = 0.05            # added to correlation diagonals: no correlation is certain
DETECT_COV_PRIOR = 50.0       # pseudo-rows of the prior (identity) correlation of z vectors
DETECT_ACCEPT_ROWS = 1000      # an alarm lasting this long is the new normal: learning resumes
DETECT_TAIL_S = 2.57           # surprise (-log10 p) whose exceedance rate calibrates the tails
DETECT_TAIL_PRIOR = 200.0      # pseudo-rows at the theoretical tail rate
DETECT_EXCESS_MEMORY = 50.0    # excesses averaged into a tail's mean excess (5 pseudo at theory)
DETECT_EXCESS_CAP = 10.0       # one excess counts at most this much (one freak row is not a tail)
DETECT_EXCESS_CAP_T2 = 0.5     # the same for the smoothed T^2 (bounded input; chosen on SKAB)
DETECT_TAIL_BURST = 3          # rows of an alarm still learnt by the tail calibration
DETECT_STUCK_MIN_RATE = 0.05   # floor of the learnt rate of exact repeats (flat-line evidence)
DETECT_GATE_S = 3.0            # rows at least this surprising are not learnt from (until accepted)
DETECT_HALF_S = 4.0            # calibrated surprise at which the score is 0.5
DETECT_SLOPE = 1.5             # logistic slope of the score in surprise
