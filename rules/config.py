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

# --- the generic streaming detector (`fixahead detect`) ---------------------------------
DETECT_WINDOWS = (16, 64, 256)   # windows (rows) of the value and first-difference robust z
DETECT_MIN_POINTS = 8            # a window is used once it holds this many points
DETECT_WARMUP = 32               # rows before any non-zero score
DETECT_CALIBRATION = 512         # rows of each component's surprise history used to calibrate
DETECT_CUSUM_K = 0.5             # CUSUM reference value, in robust standard deviations
DETECT_CUSUM_RESET = 20.0        # a CUSUM sum restarts from zero once it reaches this
DETECT_SCORE_SCALE = 6.0         # score = 1 - exp(-surprise / this); surprise is -log10(p)
