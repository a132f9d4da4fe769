"""The evaluation engine: metrics of already-scored rows, streamed batch by batch, with seeded
bootstrap intervals on every estimate and paired intervals on a candidate's changes.

How the intervals are computed (and why)
---------------------------------------
A grouped Poisson bootstrap over additive sufficient statistics:

* Every row (for ranking, every query) belongs to one of `UNITS` = 2,048 resampling units:
  the first 2,048 rows are one unit each, later rows go to a unit chosen by splitmix64 of
  their global index salted with the seed. Up to 2,048 rows this is the exact Poisson
  bootstrap; beyond, each unit is a random ~n/2,048-row subsample whose Poisson(1) weight is
  shared by its rows, which leaves the variance of the (linearized) metrics unchanged up to a
  factor 1 - 1/2,048. The assignment depends on the row's index only, never on batching.
* Each accumulator keeps a dense (units x cells) float64 matrix of additive statistics, filled
  with `np.bincount`: counts per (label, score bin) with ~320 bins (256 quantiles of the first
  65,536 rows, a uniform grid, and the threshold as an edge so confusion counts are exact),
  sums of per-row log loss and squared error, calibration sums, regression sums, per-query
  NDCG/AP sums. A resample's statistics are `W @ S` for Poisson(1) weights `W`
  (resamples x units, seeded, drawn by inverse transform, stored as uint8); every metric is
  then computed vectorized over all resamples (cumulative sums for ROC AUC and average
  precision). This is why 1,000 resamples cost about one BLAS product, not 1,000 passes.
* Point estimates are exact: confusion counts and sums are exact, and ROC AUC and average
  precision come from `ScoreHistogram`, a sparse per-label count of every distinct score
  (exact up to `DEFAULT_EXACT_BUDGET` // labels distinct scores per model; beyond, low mantissa
  bits are dropped, which only merges neighbouring scores into ties). Because the resampled
  AUC/AP are binned, intervals are shifted so that binning bias cancels:
  interval = exact + (percentile of resampled - binned estimate on the data).
* A candidate and a baseline are resampled with the same weights, so a change's interval is
  the percentile interval of the paired difference (degenerate at 0 for identical models).
* Segments and sensitive groups use their own accumulators with `GROUP_UNITS` = 512 units (the
  row's unit modulo 512, weights the first 512 columns of `W`) and ~24 bins.

Memory is bounded independently of the row count: per model, 2,048 x (2 x bins + 2 + 3 x
calibration bins) x 8 bytes for the whole data (about 11 MiB binary; multiclass has 3C + 2 +
2 x sum of per-class bins cells), plus 512 x cells x 8 bytes per segment value or group (at
most `max_segment_values` + 1 per rule, about 0.2 MiB each for binary), plus the exact
histograms (at most `exact_budget` keys per model and again for all groups together, 16 bytes
a key, up to twice that while new runs await a merge), plus up to `CHUNK_ROWS` rows waiting to
be accumulated (for ranking, plus the longest query). Interval computation holds
`resamples x 2,048` uint8 weights and, per set of rows, one float64 value per resample and
metric. Measured: 25.7 MiB of state for one binary model on 1M rows; 74.6 MiB on 10M and on
20M rows alike (the exact budget reached, scores coarsened).

Metric definitions follow scikit-learn (see each module); ranking's MAP@k is defined in
`ranking.query_metrics`: AP@k = sum_{i<=k} P@i * rel_i / min(k, R) over binary relevance
(relevance > 0), ties in input order, and a query without relevant rows scores 0 (as
scikit-learn's NDCG scores a query whose relevances are all 0), so both metrics average over
the same queries.
"""

from lockgate.compute.evaluation.batch import EvaluationBatch
from lockgate.compute.evaluation.bootstrap import GROUP_UNITS, UNITS
from lockgate.compute.evaluation.evaluator import CHUNK_ROWS, Evaluator
from lockgate.compute.evaluation.in_memory import compare_arrays, evaluate_arrays
from lockgate.compute.evaluation.plan import DEFAULT_EXACT_BUDGET, WARMUP_ROWS

__all__ = [
    "CHUNK_ROWS",
    "DEFAULT_EXACT_BUDGET",
    "GROUP_UNITS",
    "UNITS",
    "WARMUP_ROWS",
    "EvaluationBatch",
    "Evaluator",
    "compare_arrays",
    "evaluate_arrays",
]
