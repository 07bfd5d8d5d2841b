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
# Most rates a rate_while predicate keeps (its ring of rate times and rates is in the state row).
MAX_RATE_WHILE_SAMPLES = 256

# Time-driven predicates (silent devices, error-count expiry) are re-checked for every device
# when event time has advanced this far since the last check.
TICK_EVERY_MS = 60_000

# --- gaps in listening --------------------------------------------------------------------
# A device's readings on both sides of at least this much time in which the platform was not
# listening (between two recorded listening intervals) are not judged as one sequence: the
# pending durations of its threshold, rate and stuck predicates restart after the gap (a
# broker restart may have lost the end of a dishwasher's fill, and the next programme's fill
# would otherwise count as the same one). Shorter stalls lose at most a sample or two.
GAP_RESET_MS = 10_000

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
DETECT_REF_ROWS = 10000        # memory (rows) of the drift reference: normal, slowly refreshed
DETECT_REF_MIN = 1500          # normal rows learnt before the drift component speaks
DETECT_REF_SETTLE = 5000       # rows after an accepted alarm the reference follows the baseline
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

# --- changepoints of the detector (rules/kernels/changepoint.py) ------------------------
# Two CUSUMs on the calibrated surprise s behind the score: entering an abnormal stretch
# (sum of s - ENTER_K reaches ENTER_H) and leaving it (sum of EXIT_K - s reaches EXIT_H).
# While abnormal, a CUSUM per column on its level against the current segment's (in units of
# the column's row-to-row noise, re-anchored at each change) reports each further change of
# regime (the end of a ramp, the start of the way back). All chosen on SKAB (bench detect).
DETECT_CP_ENTER_K = 1.0
DETECT_CP_ENTER_H = 20.0       # no changepoint in 100,000 rows of white noise
DETECT_CP_EXIT_K = 4.0
DETECT_CP_EXIT_H = 3.0
DETECT_CP_SHIFT_K = 1.0        # noise sigmas of drift the level CUSUM ignores per row
DETECT_CP_SHIFT_H = 300.0      # its threshold
DETECT_CP_REF_ALPHA = 0.2      # EWMA weight of the level a segment re-anchors to
DETECT_CP_SETTLE = 5           # rows after a change in which the segment's level settles

# --- the generic detector inside the rule engine (rules/generic.py) ---------------------
# Every (device, metric) that no rule pack covers runs the detector above; an "anomaly"
# incident (fault ANOMALY:<metric>, severity info, no customer email) opens only once the
# score has stayed >= GENERIC_ON for GENERIC_MIN_ROWS rows spanning GENERIC_MIN_MS, and its
# evidence ends after GENERIC_MIN_ROWS rows below it. Off by default (settings
# `rules_generic_detector`).
GENERIC_ON = 0.5
GENERIC_MIN_ROWS = 10
GENERIC_MIN_MS = 30 * 60_000
