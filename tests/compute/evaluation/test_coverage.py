"""Interval coverage on synthetic data whose true metric is known: over many simulated datasets
the 95% interval must cover the truth at a rate inside a binomial tolerance, for single
metrics and for paired changes."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.stats import binom, norm
from sklearn.metrics import roc_auc_score

from lockgate.compute.evaluation import compare_arrays, evaluate_arrays
from lockgate.compute.evaluation.estimates import Intervals
from lockgate.domain.evaluation import Estimate
from tests.compute.evaluation.cases import binary_config, regression_config

DATASETS = 200
ROWS = 1_000  # below the 2,048 units: the exact Poisson bootstrap (the MAE test goes beyond)
RESAMPLES = 200
# 95% intervals over 200 datasets: outside [0.90, 0.99] has probability < 0.5% if the true
# coverage is 0.95 (the binomial quantiles below are about 0.92 and 0.98).
LOW, HIGH = 0.90, 0.99


def _coverage(truth: float, interval: Callable[[np.random.Generator], Estimate]) -> float:
    rng = np.random.default_rng(2024)
    covered = 0
    for _ in range(DATASETS):
        estimate = interval(rng)
        assert estimate.lower is not None
        assert estimate.upper is not None
        covered += estimate.lower <= truth <= estimate.upper
    return covered / DATASETS


def _binormal(rng: np.random.Generator, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels half and half; scores Phi(N(0,1)) for negatives, Phi(N(shift,1)) for positives
    (a monotone map into [0, 1], so the ROC AUC is Phi(shift / sqrt(2)))."""
    target = np.repeat([0, 1], ROWS // 2)
    latent = rng.normal(size=ROWS) + shift * target
    return target, norm.cdf(latent)


def test_the_tolerance_is_a_binomial_one() -> None:
    assert binom.ppf(0.0025, DATASETS, 0.95) / DATASETS >= LOW
    assert binom.ppf(0.9975, DATASETS, 0.95) / DATASETS <= HIGH


def test_roc_auc_interval_covers_the_binormal_truth() -> None:
    config = binary_config(resamples=RESAMPLES)

    def interval(rng: np.random.Generator) -> Estimate:
        target, scores = _binormal(rng, 1.0)
        return evaluate_arrays(config, target, scores).metrics["roc_auc"]

    assert LOW <= _coverage(float(norm.cdf(1.0 / math.sqrt(2.0))), interval) <= HIGH


def test_accuracy_interval_covers_the_bernoulli_truth() -> None:
    config = binary_config(resamples=RESAMPLES)

    def interval(rng: np.random.Generator) -> Estimate:
        target = rng.integers(0, 2, ROWS)
        correct = rng.random(ROWS) < 0.8
        scores = np.where(correct == (target == 1), 0.9, 0.1)
        return evaluate_arrays(config, target, scores).metrics["accuracy"]

    assert LOW <= _coverage(0.8, interval) <= HIGH


def test_mae_interval_covers_the_gaussian_truth_beyond_the_unit_count() -> None:
    config = regression_config(resamples=RESAMPLES)
    rows = 6_000  # more rows than resampling units: the grouped bootstrap

    def interval(rng: np.random.Generator) -> Estimate:
        target = rng.normal(size=rows)
        return evaluate_arrays(config, target, target + rng.normal(size=rows)).metrics["mae"]

    assert LOW <= _coverage(math.sqrt(2.0 / math.pi), interval) <= HIGH


def test_paired_auc_change_interval_covers_the_known_difference() -> None:
    config = binary_config(resamples=RESAMPLES)
    truth = float(norm.cdf(1.0 / math.sqrt(2.0)) - norm.cdf(0.6 / math.sqrt(2.0)))

    def interval(rng: np.random.Generator) -> Estimate:
        target = np.repeat([0, 1], ROWS // 2)
        common = rng.normal(size=ROWS)  # shared noise makes the pairing matter
        candidate = norm.cdf(0.8 * common + 0.6 * rng.normal(size=ROWS) + 1.0 * target)
        baseline = norm.cdf(0.8 * common + 0.6 * rng.normal(size=ROWS) + 0.6 * target)
        paired = compare_arrays(config, target, candidate, baseline)
        return next(c.delta for c in paired.changes if c.metric == "roc_auc")

    assert LOW <= _coverage(truth, interval) <= HIGH


def test_paired_mae_change_interval_covers_the_known_difference() -> None:
    config = regression_config(resamples=RESAMPLES)
    truth = math.sqrt(2.0 / math.pi) * (1.0 - 1.5)

    def interval(rng: np.random.Generator) -> Estimate:
        target = rng.normal(size=ROWS)
        noise = rng.normal(size=ROWS)
        candidate = target + noise
        baseline = target + 1.5 * (0.6 * noise + 0.8 * rng.normal(size=ROWS))
        paired = compare_arrays(config, target, candidate, baseline)
        return next(c.delta for c in paired.changes if c.metric == "mae")

    assert LOW <= _coverage(truth, interval) <= HIGH


def _delong_standard_error(target: np.ndarray, scores: np.ndarray) -> float:
    """DeLong's standard error of the empirical ROC AUC (ties count one half)."""
    positives, negatives = np.sort(scores[target == 1]), np.sort(scores[target == 0])
    below = np.searchsorted(negatives, positives, "left")
    tied = np.searchsorted(negatives, positives, "right") - below
    per_positive = (below + 0.5 * tied) / negatives.size
    above = positives.size - np.searchsorted(positives, negatives, "right")
    tied = np.searchsorted(positives, negatives, "right") - np.searchsorted(positives, negatives)
    per_negative = (above + 0.5 * tied) / positives.size
    variance = per_positive.var(ddof=1) / positives.size + per_negative.var(ddof=1) / negatives.size
    return math.sqrt(variance)


def test_grouped_binned_auc_interval_has_delong_width_on_a_large_sample() -> None:
    rng = np.random.default_rng(31)
    rows = 200_000  # ~100 rows per unit, AUC resampled from ~330 bins
    target = (rng.random(rows) < 0.3).astype(int)
    scores = norm.cdf(rng.normal(size=rows) + 1.2 * target)

    report = evaluate_arrays(binary_config(resamples=1_000, seed=9), target, scores)

    auc = report.metrics["roc_auc"]
    assert auc.lower is not None
    assert auc.upper is not None
    width = (auc.upper - auc.lower) / (2 * norm.ppf(0.975))
    assert width == pytest.approx(_delong_standard_error(target, scores), rel=0.08)
    assert auc.lower < auc.value < auc.upper


def test_paired_intervals_are_narrower_than_the_unpaired_difference_would_be() -> None:
    rng = np.random.default_rng(7)
    target = np.repeat([0, 1], ROWS // 2)
    common = rng.normal(size=ROWS)
    candidate = norm.cdf(common + 0.3 * rng.normal(size=ROWS) + target)
    baseline = norm.cdf(common + 0.3 * rng.normal(size=ROWS) + 0.9 * target)

    paired = compare_arrays(binary_config(resamples=400), target, candidate, baseline)

    change = next(c for c in paired.changes if c.metric == "roc_auc")
    widths = []
    for estimate in (
        change.delta,
        paired.candidate.metrics["roc_auc"],
        paired.baseline.metrics["roc_auc"],
    ):
        assert estimate.lower is not None
        assert estimate.upper is not None
        widths.append(estimate.upper - estimate.lower)
    # independent intervals would combine as the root sum of squares
    assert widths[0] < 0.5 * math.hypot(widths[1], widths[2])


@pytest.mark.parametrize("rows", [500, 5_000])
def test_identical_models_change_by_exactly_zero_with_a_degenerate_interval(rows: int) -> None:
    rng = np.random.default_rng(rows)
    target = rng.integers(0, 2, rows)
    scores = rng.random(rows)

    paired = compare_arrays(binary_config(resamples=100), target, scores, scores.copy())

    assert {c.metric for c in paired.changes} == {
        *paired.candidate.metrics,
        "expected_calibration_error",
    }
    for change in paired.changes:
        assert (change.delta.value, change.delta.lower, change.delta.upper) == (0.0, 0.0, 0.0)
        assert not change.is_significant


def test_intervals_are_shifted_by_the_binning_bias() -> None:
    intervals = Intervals(0.95)
    resampled = np.linspace(0.69, 0.71, 1_001)

    bounds = intervals.bounds(0.8, 0.7, resampled)

    assert bounds is not None
    assert bounds == pytest.approx((0.8 - 0.0095, 0.8 + 0.0095))
    assert intervals.bounds(0.8, 0.7, np.full(10, np.nan)) is None


def test_a_coarsely_binned_auc_interval_is_still_centred_on_the_exact_auc() -> None:
    # The bin edges come from the first rows' quantiles and a 1/64 grid. Here the first rows
    # score below 0.5 and the rest between 0.9 and 0.91, where two bins hide most of the
    # ranking: the binned AUC is far below the exact one, and only the shift re-centres.
    rng = np.random.default_rng(3)
    rows = 100_000
    low_target = rng.integers(0, 2, rows)
    low = rng.random(rows) * 0.5
    high_target = rng.integers(0, 2, rows)
    high = 0.9 + 0.01 * norm.cdf(rng.normal(size=rows) + 2.0 * high_target)
    target = np.concatenate([low_target, high_target])
    scores = np.concatenate([low, high])

    report = evaluate_arrays(binary_config(resamples=400), target, scores)

    auc = report.metrics["roc_auc"]
    assert auc.lower is not None
    assert auc.upper is not None
    assert auc.value == pytest.approx(roc_auc_score(target, scores), abs=1e-12)
    assert 0.6 < (auc.upper - auc.value) / (auc.value - auc.lower) < 1.6
