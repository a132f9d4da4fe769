"""The evaluation domain: the metric catalog, configs, the checks on submitted reports and
paired changes, the verdict against thresholds, and the document form with field-named errors."""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation import (
    Calibration,
    CalibrationBin,
    CheckScope,
    Direction,
    Estimate,
    EvaluationConfig,
    FairnessReport,
    GroupMetrics,
    MetricChange,
    ModelReport,
    PairedReport,
    SegmentChange,
    SegmentMetrics,
    SegmentRule,
    Task,
    Threshold,
    Thresholds,
    changes_document,
    check_cutoffs,
    check_paired,
    check_report,
    config_document,
    default_thresholds,
    fields_under,
    judge,
    metric_info,
    primary_metric,
    read_changes,
    read_config,
    read_report,
    read_thresholds,
    read_verdict,
    report_document,
    task_metrics,
    thresholds_document,
    verdict_document,
)
from lockgate.domain.evaluation import records as records_module
from tests.support.evaluations import BINARY, binary_config, binary_report, estimate, pair

REGRESSION = Task.REGRESSION
RANKING = Task.RANKING
MULTICLASS = Task.MULTICLASS_CLASSIFICATION


def _field(call: Any, *args: Any, **kwargs: Any) -> str | None:
    with pytest.raises(InvalidInputError) as caught:
        call(*args, **kwargs)
    return caught.value.field


# -- the catalog ---------------------------------------------------------------------------


def test_tasks_and_directions() -> None:
    assert BINARY.is_classification
    assert MULTICLASS.is_classification
    assert not REGRESSION.is_classification
    assert not RANKING.is_classification
    assert Direction.HIGHER_IS_BETTER.worsening(-0.02) == 0.02
    assert Direction.LOWER_IS_BETTER.worsening(-0.02) == -0.02


def test_metric_sets_and_primary_metrics_by_task() -> None:
    assert task_metrics(REGRESSION) == ("mae", "rmse", "r2", "mape")
    assert "f1_macro" in task_metrics(MULTICLASS)
    assert task_metrics(RANKING, (5, 10)) == ("ndcg@5", "ndcg@10", "map@5", "map@10")
    assert primary_metric(BINARY) == "roc_auc"
    assert primary_metric(REGRESSION) == "rmse"
    assert primary_metric(RANKING, (5, 10)) == "ndcg@5"


def test_metric_info_knows_the_catalog_and_ranking_cutoffs() -> None:
    assert metric_info("log_loss").direction is Direction.LOWER_IS_BETTER
    assert metric_info("ndcg@20").description.startswith("normalized discounted")
    assert metric_info("map@3").description.startswith("mean average precision")
    assert metric_info("map@3").direction is Direction.HIGHER_IS_BETTER
    with pytest.raises(InvalidInputError, match="unknown metric 'auc'"):
        metric_info("auc")
    with pytest.raises(InvalidInputError):
        metric_info("ndcg@0")


@pytest.mark.parametrize("cutoffs", [(), tuple(range(1, 10)), (5, 5), (0,), (1001,)])
def test_ranking_cutoffs_are_1_to_8_distinct_values_up_to_1000(cutoffs: tuple[int, ...]) -> None:
    assert _field(check_cutoffs, cutoffs, field="cutoffs") == "cutoffs"


def test_good_cutoffs_pass() -> None:
    check_cutoffs((1, 10, 1000))


# -- configs -------------------------------------------------------------------------------

BAD_CONFIGS: list[tuple[dict[str, Any], str]] = [
    ({"target": ""}, "target"),
    ({"target": "a\x00b"}, "target"),
    ({"threshold": math.nan}, "threshold"),
    ({"threshold": 1.5}, "threshold"),
    ({"resamples": 10_001}, "resamples"),
    ({"confidence": 1.0}, "confidence"),
    ({"seed": -1}, "seed"),
    ({"calibration_bins": 1}, "calibration_bins"),
    ({"max_segment_values": 0}, "max_segment_values"),
    ({"classes": ("a", "a")}, "classes"),
    ({"classes": tuple(str(i) for i in range(1001))}, "classes"),
    ({"query": "q"}, "query"),
    ({"task": REGRESSION}, "sensitive"),
    ({"segments": tuple(SegmentRule(f"s{i}", column="c") for i in range(33))}, "segments"),
    ({"segments": (SegmentRule("a", column="c"), SegmentRule("a", column="d"))}, "segments"),
    ({"segments": (SegmentRule("bad/name", column="c"),)}, "segments[0].name"),
    ({"segments": (SegmentRule("s"),)}, "segments[0]"),
    ({"segments": (SegmentRule("s", column="c", predicate="x > 1"),)}, "segments[0]"),
    ({"segments": (SegmentRule("s", column="c" * 513),)}, "segments[0].column"),
    ({"segments": (SegmentRule("s", predicate="x" * 2049),)}, "segments[0].predicate"),
    ({"sensitive": tuple(f"c{i}" for i in range(9))}, "sensitive"),
    ({"sensitive": ("sex", "sex")}, "sensitive"),
    ({"sensitive": ("a\x01",)}, "sensitive"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_CONFIGS)
def test_a_config_names_the_option_at_fault(changes: dict[str, Any], field: str) -> None:
    config = binary_config(**changes)
    assert _field(config.check) == field


def test_ranking_needs_a_query_column_and_good_cutoffs() -> None:
    ranking = EvaluationConfig(RANKING, "relevance", query="session", cutoffs=(5, 10))
    ranking.check()
    assert _field(dataclasses.replace(ranking, query=None).check) == "query"
    assert _field(dataclasses.replace(ranking, cutoffs=()).check) == "cutoffs"


def test_a_full_config_passes() -> None:
    binary_config(segments=(SegmentRule("new", predicate="tenure_months < 6"),)).check()


# -- estimates, changes, worst segments ----------------------------------------------------


def test_estimates_and_changes() -> None:
    assert estimate(0.5).has_interval
    assert not Estimate(0.5).has_interval
    assert not Estimate(0.5).excludes(0.0)
    assert Estimate(0.1, 0.05, 0.15).excludes(0.0)
    assert Estimate(-0.1, -0.15, -0.05).excludes(0.0)
    assert not Estimate(0.0, -0.1, 0.1).excludes(0.0)
    change = MetricChange("roc_auc", 0.78, 0.8, Estimate(-0.02, -0.03, -0.01))
    assert change.is_significant
    assert change.relative == pytest.approx(-0.025)
    assert MetricChange("mae", 1.0, 0.0, Estimate(1.0)).relative is None


def test_the_worst_segment_follows_the_metrics_direction() -> None:
    report = binary_report(segments={"basic": (600, 0.85), "pro": (400, 0.7)})
    worst = report.worst_segment()
    assert worst is not None
    assert worst.value == "pro"
    lower_is_better = dataclasses.replace(
        report,
        segments=(
            SegmentMetrics("plan", "a", 10, {"log_loss": Estimate(0.2)}),
            SegmentMetrics("plan", "b", 10, {"log_loss": Estimate(0.5)}),
        ),
    )
    found = lower_is_better.worst_segment("log_loss")
    assert found is not None
    assert found.value == "b"
    assert binary_report(segments={}).worst_segment() is None


# -- the checks on submitted reports -------------------------------------------------------


def _report(**changes: Any) -> ModelReport:
    return dataclasses.replace(binary_report(), **changes)


BAD_REPORTS: list[tuple[ModelReport, str]] = [
    (_report(task=REGRESSION), "report.task"),
    (_report(rows=-1), "report.rows"),
    (_report(metrics={"rmse": Estimate(1.0)}), "report.metrics"),
    (_report(metrics={f"m{i}": Estimate(1.0) for i in range(9)}), "report.metrics"),
    (_report(metrics={"roc_auc": Estimate(math.inf)}), "report.metrics.roc_auc"),
    (_report(metrics={"roc_auc": Estimate(0.8, 0.7)}), "report.metrics.roc_auc"),
    (_report(metrics={"roc_auc": Estimate(0.8, 0.9, 0.7)}), "report.metrics.roc_auc"),
    (
        _report(segments=(SegmentMetrics("plan", "a", 1, {"rmse": Estimate(1.0)}),)),
        "report.segments[0].metrics",
    ),
    (
        _report(segments=tuple(SegmentMetrics("s", str(i), 1, {}) for i in range(1001))),
        "report.segments",
    ),
    (
        _report(
            fairness=(
                FairnessReport(
                    "sex",
                    tuple(GroupMetrics(str(i), 1, 0.1, None, None, {}) for i in range(201)),
                    {},
                ),
            )
        ),
        "report.fairness[0].groups",
    ),
    (
        _report(fairness=(FairnessReport("sex", (), {"roc_auc": Estimate(0.8)}),)),
        "report.fairness[0].measures",
    ),
    (
        _report(
            fairness=(
                FairnessReport(
                    "sex", (GroupMetrics("f", 1, 0.1, None, None, {"mae": Estimate(1.0)}),), {}
                ),
            )
        ),
        "report.fairness[0].groups[0].metrics",
    ),
    (
        _report(calibration=Calibration((), Estimate(math.nan))),
        "report.calibration.expected_calibration_error",
    ),
    (
        _report(fairness=tuple(FairnessReport(f"a{i}", (), {}) for i in range(9))),
        "report.fairness",
    ),
    (
        _report(calibration=Calibration((CalibrationBin(0, 1, 1, 0.5, 0.5),) * 101, Estimate(0.1))),
        "report.calibration.bins",
    ),
]


@pytest.mark.parametrize(("report", "field"), BAD_REPORTS)
def test_check_report_names_the_part_at_fault(report: ModelReport, field: str) -> None:
    assert _field(check_report, report, binary_config()) == field


def test_ranking_reports_carry_the_configs_cutoffs() -> None:
    config = EvaluationConfig(RANKING, "relevance", query="q", cutoffs=(5,))
    report = ModelReport(RANKING, 10, {"ndcg@5": Estimate(0.6)}, cutoffs=(5,))
    check_report(report, config)
    moved = dataclasses.replace(report, cutoffs=(10,))
    assert _field(check_report, moved, config, field="candidate.report") == (
        "candidate.report.cutoffs"
    )


def test_a_good_report_passes() -> None:
    check_report(binary_report(), binary_config())


# -- the checks on paired changes ----------------------------------------------------------


def test_consistent_changes_pass() -> None:
    check_paired(pair(binary_report(0.78), binary_report(0.8)))


def _with(paired: PairedReport, **changes: Any) -> PairedReport:
    return dataclasses.replace(paired, **changes)


def test_a_change_must_be_the_candidates_value_minus_the_baselines() -> None:
    paired = pair(binary_report(0.78), binary_report(0.8))
    claimed = MetricChange("roc_auc", 0.78, 0.8, Estimate(0.05, 0.04, 0.06))
    assert _field(check_paired, _with(paired, changes=(claimed,))) == "changes.roc_auc"
    renamed = MetricChange("roc_auc", 0.9, 0.8, Estimate(0.1))
    with pytest.raises(InvalidInputError, match="candidate's value minus the baseline's"):
        check_paired(_with(paired, changes=(renamed,)))
    unknown = MetricChange("log_loss", 0.3, 0.2, Estimate(0.1))
    with pytest.raises(InvalidInputError, match="log_loss is not in both reports"):
        check_paired(_with(paired, changes=(unknown,)))
    unbounded = MetricChange("roc_auc", 0.78, 0.8, Estimate(-0.02, 0.0, -0.04))
    assert _field(check_paired, _with(paired, changes=(unbounded,))) == "changes.roc_auc.delta"


def test_the_calibration_error_changes_like_a_metric() -> None:
    paired = pair(binary_report(0.78), binary_report(0.8))
    ece = (
        paired.candidate.calibration.expected_calibration_error.value,  # type: ignore[union-attr]
        paired.baseline.calibration.expected_calibration_error.value,  # type: ignore[union-attr]
    )
    change = MetricChange("expected_calibration_error", *ece, Estimate(ece[0] - ece[1]))
    check_paired(_with(paired, changes=(*paired.changes, change)))
    lie = MetricChange("expected_calibration_error", ece[0] + 0.1, ece[1], Estimate(0.1))
    with pytest.raises(InvalidInputError, match="candidate's value minus the baseline's"):
        check_paired(_with(paired, changes=(lie,)))
    without = dataclasses.replace(paired.candidate, calibration=None)
    with pytest.raises(InvalidInputError, match="expected_calibration_error is not in both"):
        check_paired(_with(paired, candidate=without, changes=(change,)))
    Thresholds((Threshold("expected_calibration_error", 0.01),)).check_task(BINARY)
    rule = Thresholds((Threshold("expected_calibration_error", 0.01),))
    assert _field(rule.check_task, REGRESSION) == "thresholds.rules[0].metric"


def test_segment_and_fairness_changes_are_checked_too() -> None:
    paired = pair(binary_report(0.78), binary_report(0.8))
    stranger = SegmentChange("plan", "enterprise", 5, ())
    assert _field(check_paired, _with(paired, segment_changes=(stranger,))) == (
        "segment_changes[0]"
    )
    wrong = SegmentChange(
        "plan", "basic", 600, (MetricChange("roc_auc", 0.5, 0.81, Estimate(-0.31)),)
    )
    assert _field(check_paired, _with(paired, segment_changes=(wrong,))) == (
        "segment_changes[0].roc_auc"
    )
    assert _field(check_paired, _with(paired, fairness_changes={"age": ()})) == (
        "fairness_changes.age"
    )
    lie = MetricChange("demographic_parity_difference", 0.0, 0.05, Estimate(-0.05))
    assert _field(check_paired, _with(paired, fairness_changes={"sex": (lie,)})) == (
        "fairness_changes.sex.demographic_parity_difference"
    )


# -- the verdict ---------------------------------------------------------------------------


def _thresholds(*rules: Threshold, min_rows: int = 100) -> Thresholds:
    thresholds = Thresholds(rules, min_rows)
    thresholds.check()
    return thresholds


def test_an_absolute_threshold_fails_a_larger_drop_and_passes_a_smaller_one() -> None:
    rule = _thresholds(Threshold("roc_auc", 0.01, segments=False))
    failed = judge(pair(binary_report(0.78), binary_report(0.8)), rule)
    assert not failed.passed
    assert failed.reasons == (
        "roc_auc worsened: 0.8000 -> 0.7800 (change -0.0200, interval [-0.0250, -0.0150] "
        "excludes no change); allowed worsening 0.0100",
    )
    check = failed.checks[0]
    assert (check.scope, check.target, check.allowed, check.significant) == (
        CheckScope.OVERALL,
        "all rows",
        0.01,
        True,
    )
    passed = judge(pair(binary_report(0.795), binary_report(0.8)), rule)
    assert passed.passed
    assert passed.reasons == ()


def test_an_improvement_passes_and_says_so() -> None:
    verdict = judge(
        pair(binary_report(0.9), binary_report(0.8), half_width=0.2),
        _thresholds(Threshold("roc_auc", 0.0, segments=False)),
    )
    assert verdict.passed
    assert "did not worsen" in verdict.checks[0].message
    assert "includes no change" in verdict.checks[0].message


def test_a_change_without_an_interval_is_judged_on_its_value() -> None:
    candidate, baseline = binary_report(0.7), binary_report(0.8)
    paired = _with(
        pair(candidate, baseline), changes=(MetricChange("roc_auc", 0.7, 0.8, Estimate(0.7 - 0.8)),)
    )
    verdict = judge(paired, _thresholds(Threshold("roc_auc", 0.01, segments=False)))
    assert not verdict.passed
    assert "interval" not in verdict.checks[0].message
    assert verdict.checks[0].lower is None


def test_a_relative_threshold_scales_with_the_baseline() -> None:
    rule = _thresholds(Threshold("roc_auc", 0.05, relative=True, segments=False))
    assert judge(pair(binary_report(0.77), binary_report(0.8)), rule).passed  # 0.03 <= 0.04
    verdict = judge(pair(binary_report(0.75), binary_report(0.8)), rule)
    assert not verdict.passed
    assert verdict.checks[0].allowed == pytest.approx(0.04)
    assert Threshold("r2", 0.1, relative=True).allowed(0.0) == 0.0
    assert (
        Threshold("r2", 0.1, relative=True).describe()
        == "r2 may worsen by at most 0.1 of the baseline"
    )
    assert Threshold("r2", 0.1).describe() == "r2 may worsen by at most 0.1"
    # A product past the largest float stays finite, so the verdict stays a number.
    assert Threshold("mae", 1e300, relative=True).allowed(1e300) == sys.float_info.max


def test_a_direction_override_turns_a_rise_into_a_worsening() -> None:
    candidate = binary_report(0.85)
    baseline = binary_report(0.8)
    lower = Threshold("roc_auc", 0.01, direction=Direction.LOWER_IS_BETTER, segments=False)
    assert not judge(pair(candidate, baseline), _thresholds(lower)).passed
    assert judge(
        pair(candidate, baseline), _thresholds(Threshold("roc_auc", 0.01, segments=False))
    ).passed
    assert lower.better is Direction.LOWER_IS_BETTER


def test_significant_only_fails_only_a_worsening_whose_interval_excludes_no_change() -> None:
    rule = _thresholds(Threshold("roc_auc", 0.01, significant_only=True, segments=False))
    noisy = pair(binary_report(0.78), binary_report(0.8), half_width=0.05)  # [-0.07, 0.03]
    verdict = judge(noisy, rule)
    assert verdict.passed
    assert not verdict.checks[0].significant
    sure = pair(binary_report(0.78), binary_report(0.8), half_width=0.005)
    assert not judge(sure, rule).passed


def test_segments_under_min_rows_are_not_judged() -> None:
    candidate = binary_report(0.8, segments={"basic": (600, 0.8), "pro": (40, 0.5)})
    baseline = binary_report(0.8, segments={"basic": (600, 0.8), "pro": (40, 0.8)})
    paired = pair(candidate, baseline)
    verdict = judge(paired, _thresholds(Threshold("roc_auc", 0.01)))
    assert verdict.passed
    assert [(c.scope, c.target) for c in verdict.checks] == [
        (CheckScope.OVERALL, "all rows"),
        (CheckScope.SEGMENT, "plan=basic"),
    ]
    strict = judge(paired, _thresholds(Threshold("roc_auc", 0.01), min_rows=40))
    assert not strict.passed
    assert strict.reasons[0].startswith("roc_auc on plan=pro worsened")
    overall_only = judge(
        paired, _thresholds(Threshold("roc_auc", 0.01, segments=False), min_rows=1)
    )
    assert overall_only.passed
    assert len(overall_only.checks) == 1


def test_a_segment_without_the_metric_is_not_judged() -> None:
    paired = pair(binary_report(0.8), binary_report(0.8))
    bare = _with(paired, segment_changes=(SegmentChange("plan", "basic", 600, ()),))
    verdict = judge(bare, _thresholds(Threshold("roc_auc", 0.01)))
    assert [c.scope for c in verdict.checks] == [CheckScope.OVERALL]


def test_a_metric_the_report_lacks_fails_its_check() -> None:
    verdict = judge(
        pair(binary_report(0.8), binary_report(0.8)), _thresholds(Threshold("log_loss", 0.01))
    )
    assert not verdict.passed
    check = verdict.checks[0]
    assert check.message == "log_loss cannot be checked: the report has no log_loss"
    assert (check.candidate, check.delta, check.allowed) == (None, None, None)


def test_fairness_measures_are_checked_on_every_attribute() -> None:
    rule = _thresholds(Threshold("demographic_parity_difference", 0.02))
    fairer = judge(pair(binary_report(parity=0.03), binary_report(parity=0.05)), rule)
    assert fairer.passed
    assert [(c.scope, c.target) for c in fairer.checks] == [(CheckScope.FAIRNESS, "sex")]
    worse = judge(pair(binary_report(parity=0.1), binary_report(parity=0.05)), rule)
    assert not worse.passed
    assert worse.reasons[0].startswith("demographic_parity_difference on sex worsened: 0.0500")
    none = judge(pair(binary_report(parity=None), binary_report(parity=None)), rule)
    assert none.reasons == (
        "demographic_parity_difference cannot be checked: no sensitive attribute was evaluated",
    )
    lacking = _with(pair(binary_report(), binary_report()), fairness_changes={"sex": ()})
    assert judge(lacking, rule).reasons == (
        "demographic_parity_difference cannot be checked: sex has no demographic_parity_difference",
    )


def test_default_thresholds_guard_the_primary_metric() -> None:
    assert default_thresholds(BINARY).rules == (Threshold("roc_auc", 0.01),)
    assert default_thresholds(RANKING, (3, 10)).rules[0].metric == "ndcg@3"
    assert default_thresholds(REGRESSION).min_rows == 100


BAD_THRESHOLDS: list[tuple[Thresholds, str]] = [
    (Thresholds(()), "thresholds.rules"),
    (Thresholds(tuple(Threshold("roc_auc", i) for i in range(65))), "thresholds.rules"),
    (Thresholds((Threshold("auc", 0.1),)), "thresholds.rules[0].metric"),
    (Thresholds((Threshold("roc_auc", -0.1),)), "thresholds.rules[0].max_drop"),
    (Thresholds((Threshold("roc_auc", math.inf),)), "thresholds.rules[0].max_drop"),
    (Thresholds((Threshold("roc_auc", 0.1), Threshold("roc_auc", 0.2))), "thresholds.rules"),
    (Thresholds((Threshold("roc_auc", 0.1),), min_rows=0), "thresholds.min_rows"),
]


@pytest.mark.parametrize(("thresholds", "field"), BAD_THRESHOLDS)
def test_thresholds_name_the_rule_at_fault(thresholds: Thresholds, field: str) -> None:
    assert _field(thresholds.check) == field


def test_one_absolute_and_one_relative_threshold_per_metric_are_fine() -> None:
    Thresholds((Threshold("roc_auc", 0.1), Threshold("roc_auc", 0.1, relative=True))).check()


def test_thresholds_must_name_metrics_of_the_task() -> None:
    binary = Thresholds((Threshold("roc_auc", 0.1), Threshold("equalized_odds_difference", 0.1)))
    binary.check_task(BINARY)
    assert _field(binary.check_task, REGRESSION) == "thresholds.rules[0].metric"
    fairness = Thresholds((Threshold("rmse", 0.1), Threshold("demographic_parity_ratio", 0.1)))
    assert _field(fairness.check_task, REGRESSION) == "thresholds.rules[1].metric"
    Thresholds((Threshold("ndcg@5", 0.1),)).check_task(RANKING, (5,))
    assert _field(Thresholds((Threshold("ndcg@10", 0.1),)).check_task, RANKING, (5,)) == (
        "thresholds.rules[0].metric"
    )


# -- documents -----------------------------------------------------------------------------


def test_documents_round_trip() -> None:
    config = binary_config(
        segments=(SegmentRule("plan", column="plan"), SegmentRule("new", predicate="t < 6")),
        positive_label="yes",
        classes=("no", "yes"),
    )
    assert read_config(config_document(config)) == config
    report = binary_report()
    assert read_report(report_document(report)) == report
    bare = ModelReport(REGRESSION, 3, {"rmse": Estimate(1.5)})
    assert read_report(report_document(bare)) == bare
    paired = pair(binary_report(0.78), binary_report(0.8))
    assert read_changes(changes_document(paired), paired.candidate, paired.baseline) == paired
    thresholds = Thresholds(
        (
            Threshold("roc_auc", 0.01, direction=Direction.HIGHER_IS_BETTER),
            Threshold("roc_auc", 0.05, relative=True, segments=False, significant_only=True),
        ),
        min_rows=30,
    )
    assert read_thresholds(thresholds_document(thresholds)) == thresholds
    verdict = judge(paired, thresholds)
    document = verdict_document(verdict)
    assert document["reasons"] == list(verdict.reasons)
    assert read_verdict(document) == verdict


def test_missing_members_take_their_defaults() -> None:
    config = read_config({"task": "regression", "target": "y"})
    assert config == EvaluationConfig(REGRESSION, "y")
    report = read_report({"task": "regression", "rows": 3})
    assert report == ModelReport(REGRESSION, 3, {})
    thresholds = read_thresholds({"rules": [{"metric": "rmse", "max_drop": 1}]})
    assert thresholds == Thresholds((Threshold("rmse", 1.0),))
    assert read_verdict({}).checks == ()


BAD_CONFIG_DOCUMENTS: list[tuple[object, str]] = [
    ([], "config"),
    ({"target": "y"}, "config.task"),
    ({"task": "clustering", "target": "y"}, "config.task"),
    ({"task": "regression", "target": 3}, "config.target"),
    ({"task": "regression", "target": "y", "query": 3}, "config.query"),
    ({"task": "regression", "target": "y", "seed": True}, "config.seed"),
    ({"task": "regression", "target": "y", "seed": 1.5}, "config.seed"),
    ({"task": "regression", "target": "y", "confidence": "high"}, "config.confidence"),
    ({"task": "regression", "target": "y", "confidence": False}, "config.confidence"),
    ({"task": "regression", "target": "y", "classes": "ab"}, "config.classes"),
    ({"task": "regression", "target": "y", "classes": [1]}, "config.classes"),
    ({"task": "ranking", "target": "y", "query": "q", "cutoffs": ["5"]}, "config.cutoffs"),
    ({"task": "regression", "target": "y", "segments": [3]}, "config.segments[0]"),
    ({"task": "regression", "target": "y", "segments": [{}]}, "config.segments[0].name"),
    # Rules the config itself checks are named under the document too.
    ({"task": "regression", "target": ""}, "config.target"),
    ({"task": "ranking", "target": "y"}, "config.query"),
]


@pytest.mark.parametrize(("document", "field"), BAD_CONFIG_DOCUMENTS)
def test_reading_a_config_names_the_member_at_fault(document: object, field: str) -> None:
    assert _field(read_config, document) == field


def _report_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = report_document(binary_report())
    document.update(changes)
    return document


BAD_REPORT_DOCUMENTS: list[tuple[dict[str, Any], str]] = [
    (_report_document(rows=None), "report.rows"),
    (_report_document(metrics={"roc_auc": {"value": "high"}}), "report.metrics.roc_auc.value"),
    (_report_document(metrics={"roc_auc": {"value": math.nan}}), "report.metrics.roc_auc.value"),
    (
        _report_document(metrics={"roc_auc": {"value": 1, "lower": math.inf}}),
        "report.metrics.roc_auc.lower",
    ),
    (_report_document(metrics=[]), "report.metrics"),
    (_report_document(segments={}), "report.segments"),
    (
        _report_document(segments=[{"segment": "a", "value": "b", "rows": -1}]),
        "report.segments[0].rows",
    ),
    (_report_document(confusion_matrix={"labels": ["a"]}), "report.confusion_matrix.counts"),
    (
        _report_document(confusion_matrix={"labels": ["a", "b"], "counts": [[1, 2]]}),
        "report.confusion_matrix.counts",
    ),
    (
        _report_document(confusion_matrix={"labels": ["a", "b"], "counts": [[1], [2, 3]]}),
        "report.confusion_matrix.counts[0]",
    ),
    (
        _report_document(confusion_matrix={"labels": ["a"], "counts": [[-1]]}),
        "report.confusion_matrix.counts[0]",
    ),
    (
        _report_document(confusion_matrix={"labels": ["a"], "counts": [["1"]]}),
        "report.confusion_matrix.counts[0]",
    ),
    (
        _report_document(confusion_matrix={"labels": [1], "counts": [[1]]}),
        "report.confusion_matrix.labels",
    ),
    (
        _report_document(fairness=[{"attribute": "sex", "groups": [{"group": "f", "rows": 1}]}]),
        "report.fairness[0].groups[0].selection_rate",
    ),
    (_report_document(fairness=[{"groups": []}]), "report.fairness[0].attribute"),
    (_report_document(calibration={"bins": [{"lower": 0}]}), "report.calibration.bins[0].upper"),
    (_report_document(calibration={"bins": []}), "report.calibration.expected_calibration_error"),
]


@pytest.mark.parametrize(("document", "field"), BAD_REPORT_DOCUMENTS)
def test_reading_a_report_names_the_member_at_fault(document: dict[str, Any], field: str) -> None:
    assert _field(read_report, document) == field


def test_reading_changes_names_the_member_at_fault() -> None:
    candidate, baseline = binary_report(0.78), binary_report(0.8)
    good = changes_document(pair(candidate, baseline))
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {**good, "changes": [{"metric": "roc_auc", "candidate": 1, "baseline": 1}]},
            "changes.changes[0].delta",
        ),
        ({**good, "changes": [{"candidate": 1}]}, "changes.changes[0].metric"),
        (
            {**good, "segment_changes": [{"segment": "plan", "value": "a"}]},
            "changes.segment_changes[0].rows",
        ),
        ({**good, "fairness_changes": {"sex": {}}}, "changes.fairness_changes.sex"),
        ({**good, "fairness_changes": []}, "changes.fairness_changes"),
    ]
    for document, field in cases:
        assert _field(read_changes, document, candidate, baseline) == field


def test_reading_thresholds_and_verdicts_names_the_member_at_fault() -> None:
    assert _field(read_thresholds, {}) == "thresholds.rules"
    assert _field(read_thresholds, {"rules": [{"metric": "roc_auc"}]}) == (
        "thresholds.rules[0].max_drop"
    )
    assert (
        _field(
            read_thresholds, {"rules": [{"metric": "roc_auc", "max_drop": 0.1, "relative": "yes"}]}
        )
        == "thresholds.rules[0].relative"
    )
    assert (
        _field(
            read_thresholds, {"rules": [{"metric": "roc_auc", "max_drop": 0.1, "direction": "up"}]}
        )
        == "thresholds.rules[0].direction"
    )
    assert _field(
        read_thresholds, {"rules": [{"metric": "roc_auc", "max_drop": 0.1}], "min_rows": 0}
    ) == ("thresholds.min_rows")
    assert _field(read_verdict, {"checks": [{"scope": "everywhere"}]}) == "verdict.checks[0].scope"
    check = {"scope": "overall", "metric": "roc_auc", "target": "all rows", "message": "m"}
    assert _field(read_verdict, {"checks": [{**check, "delta": "x"}]}) == "verdict.checks[0].delta"


def test_fields_under_prefixes_the_field_of_an_error() -> None:
    with pytest.raises(InvalidInputError) as named, fields_under("config"):
        raise InvalidInputError("bad", field="target")
    assert named.value.field == "config.target"
    with pytest.raises(InvalidInputError) as unnamed, fields_under("config"):
        raise InvalidInputError("bad")
    assert unnamed.value.field == "config"
    with fields_under("config"):
        pass


def test_report_bounds_match_the_documented_limits() -> None:
    # The wire schemas (lockgate.api.evaluation) publish these bounds too.
    assert records_module.MAX_SEGMENTS == 1_000
    assert records_module.MAX_GROUPS == 200
