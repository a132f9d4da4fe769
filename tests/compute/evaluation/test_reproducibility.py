"""Reproducibility: the same data, configuration and seed give the same report however the rows
are batched; another seed gives other intervals."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from lockgate.compute.evaluation import CHUNK_ROWS, compare_arrays, evaluate_arrays
from lockgate.domain.evaluation import Estimate, ModelReport, PairedReport, SegmentRule
from tests.compute.evaluation.cases import (
    binary_config,
    multiclass_config,
    ranking_config,
    regression_config,
)

_ROWS = CHUNK_ROWS + 40_000  # two chunks, and more rows than the edges' warm-up
_RULES = (SegmentRule("region", column="region"), SegmentRule("large", predicate="x > 1"))


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(17)
    target = rng.integers(0, 2, _ROWS)
    return {
        "target": target,
        "candidate": np.clip(rng.normal(0.4 + 0.2 * target, 0.2), 0.0, 1.0),
        "baseline": np.clip(rng.normal(0.42 + 0.15 * target, 0.2), 0.0, 1.0),
        "region": rng.choice(np.array(["n", "s", "e", "w", None], dtype=object), _ROWS),
        "large": rng.random(_ROWS) < 0.3,
        "group": rng.choice(np.array(["a", "b"]), _ROWS),
    }


def _paired(data: dict[str, np.ndarray], batch_rows: int | None, seed: int = 3) -> PairedReport:
    config = binary_config(resamples=200, seed=seed, segments=_RULES, sensitive=("group",))
    return compare_arrays(
        config,
        data["target"],
        data["candidate"],
        data["baseline"],
        segments={"region": data["region"], "large": data["large"]},
        sensitive={"group": data["group"]},
        batch_rows=batch_rows,
    )


def _estimates(report: ModelReport) -> Iterator[tuple[str, Estimate]]:
    for name, estimate in report.metrics.items():
        yield name, estimate
    for segment in report.segments:
        for name, estimate in segment.metrics.items():
            yield f"{segment.segment}={segment.value}:{name}", estimate
    for fairness in report.fairness:
        for name, estimate in fairness.measures.items():
            yield f"{fairness.attribute}:{name}", estimate
        for group in fairness.groups:
            for name, estimate in group.metrics.items():
                yield f"{fairness.attribute}={group.group}:{name}", estimate
    if report.calibration is not None:
        yield "ece", report.calibration.expected_calibration_error


def _paired_estimates(report: PairedReport) -> dict[str, Estimate]:
    found = {f"candidate {k}": e for k, e in _estimates(report.candidate)}
    found.update({f"baseline {k}": e for k, e in _estimates(report.baseline)})
    found.update({f"change {c.metric}": c.delta for c in report.changes})
    for segment in report.segment_changes:
        for change in segment.changes:
            found[f"change {segment.segment}={segment.value}:{change.metric}"] = change.delta
    for attribute, changes in report.fairness_changes.items():
        for change in changes:
            found[f"change {attribute}:{change.metric}"] = change.delta
    return found


def _assert_close(first: dict[str, Estimate], second: dict[str, Estimate]) -> None:
    assert first.keys() == second.keys()
    for name, estimate in first.items():
        other = second[name]
        for a, b in (
            (estimate.value, other.value),
            (estimate.lower, other.lower),
            (estimate.upper, other.upper),
        ):
            assert a is not None, name
            assert b is not None, name
            assert abs(a - b) <= 1e-12, (name, estimate, other)


def test_the_same_seed_gives_the_identical_report(data: dict[str, np.ndarray]) -> None:
    assert _paired(data, 65_536) == _paired(data, 65_536)


@pytest.mark.parametrize("batch_rows", [None, 9_973])
def test_batch_sizes_do_not_change_estimates_or_intervals(
    data: dict[str, np.ndarray], batch_rows: int | None
) -> None:
    reference = _paired_estimates(_paired(data, 65_536))

    found = _paired_estimates(_paired(data, batch_rows))

    assert len(reference) > 100
    _assert_close(found, reference)


def test_another_seed_gives_other_intervals_around_the_same_estimates(
    data: dict[str, np.ndarray],
) -> None:
    first = _paired_estimates(_paired(data, None, seed=3))
    second = _paired_estimates(_paired(data, None, seed=4))

    assert first.keys() == second.keys()
    for name, estimate in first.items():  # the units' sums differ, in rounding only
        assert abs(estimate.value - second[name].value) <= 1e-12, name
    differing = [
        k for k in first if (first[k].lower, first[k].upper) != (second[k].lower, second[k].upper)
    ]
    assert len(differing) > 0.9 * len(first)


def test_ranking_queries_cut_across_batches_give_the_same_report() -> None:
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 40, 8_000)
    queries = np.repeat(np.arange(sizes.size), sizes)
    relevance = rng.integers(0, 3, queries.size).astype(float)
    scores = relevance + rng.normal(size=queries.size)
    config = ranking_config(cutoffs=(5,), resamples=100)

    reports = [
        evaluate_arrays(config, relevance, scores, queries=queries, batch_rows=rows)
        for rows in (None, 65_536, 1_009)
    ]

    assert queries.size > CHUNK_ROWS
    for report in reports[1:]:
        _assert_close(dict(_estimates(report)), dict(_estimates(reports[0])))


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_multiclass_and_regression_reports_do_not_depend_on_batching(task: str) -> None:
    rng = np.random.default_rng(6)
    rows = CHUNK_ROWS + 10_000
    region = rng.choice(np.array(["p", "q"]), rows)
    target: np.ndarray
    if task == "multiclass":
        target = rng.integers(0, 3, rows)
        raw = rng.random((rows, 3)) + np.eye(3)[target]
        prediction = raw / raw.sum(axis=1, keepdims=True)
        config = multiclass_config(resamples=100, segments=(_RULES[0],))
    else:
        target = rng.normal(size=rows)
        prediction = target + rng.normal(size=rows)
        config = regression_config(resamples=100, segments=(_RULES[0],))

    reports = [
        evaluate_arrays(config, target, prediction, segments={"region": region}, batch_rows=rows_in)
        for rows_in in (None, 30_011)
    ]

    _assert_close(dict(_estimates(reports[1])), dict(_estimates(reports[0])))
