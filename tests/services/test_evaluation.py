"""EvaluationService on both dialects: evaluations are evidence only for the signed package,
a comparison is one transaction whose verdict the service computes from the numbers, a moved
alias is refused, and every refusal changes nothing."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

import pytest

from lockgate.domain.access import Caller, PrincipalKind, Role
from lockgate.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from lockgate.domain.evaluation import (
    Comparison,
    Estimate,
    Evaluation,
    EvaluationConfig,
    MetricChange,
    ModelReport,
    PairedReport,
    SegmentRule,
    Task,
    Threshold,
    Thresholds,
)
from lockgate.domain.identity import Actor
from lockgate.domain.registry import ModelVersion
from lockgate.domain.tracking import DatasetInput, RunEnvironment
from lockgate.server.composition import Platform
from lockgate.services import ScoredVersion
from tests.support.evaluations import HOLDOUT, binary_config, binary_report, pair

ALICE = Caller.local(Actor("user:alice"))
ENGINE = "test-engine 1.0"


@dataclass(frozen=True)
class Setup:
    digests: dict[int, str]

    def scored(self, version: int) -> ScoredVersion:
        return ScoredVersion(version, self.digests[version])


@pytest.fixture
def setup(platform: Platform) -> Setup:
    """Project `churn`, model `clf` with versions 1 and 2 (signed), `champion` on 1."""
    platform.tracking.create_project(ALICE, "churn")
    platform.registry.create_model(ALICE, "churn", "clf", "growth", "churn model", {})
    run_id = platform.tracking.start_run(ALICE, "churn", "r", {}, RunEnvironment()).run.id
    platform.artifacts.upload(ALICE, run_id, "model/m.json", io.BytesIO(b"{}"))
    for _ in range(2):
        platform.registry.create_version(ALICE, "clf", run_id, "model", None, "", {})
    platform.registry.set_alias(ALICE, "clf", "champion", 1)
    digests = {n: platform.packages.manifest(ALICE, "clf", n)[0].digest for n in (1, 2)}
    return Setup(digests)


def _events(platform: Platform) -> int:
    return platform.audit.verify(ALICE).checked


def _record(
    platform: Platform,
    setup: Setup,
    version: int = 1,
    *,
    dataset: DatasetInput = HOLDOUT,
    config: EvaluationConfig | None = None,
    report: ModelReport | None = None,
    package_digest: str | None = None,
    engine: str = ENGINE,
) -> Evaluation:
    return platform.evaluations.record_evaluation(
        ALICE,
        "clf",
        version,
        dataset,
        config or binary_config(),
        report or binary_report(),
        package_digest or setup.digests[version],
        engine,
    )


def _compare(
    platform: Platform,
    setup: Setup,
    paired: PairedReport | None = None,
    *,
    caller: Caller = ALICE,
    candidate: ScoredVersion | None = None,
    baseline: ScoredVersion | None = None,
    alias: str | None = "champion",
    thresholds: Thresholds | None = None,
) -> Comparison:
    return platform.evaluations.compare(
        caller,
        "clf",
        HOLDOUT,
        binary_config(),
        candidate or setup.scored(2),
        baseline or setup.scored(1),
        paired or pair(binary_report(0.78), binary_report(0.8)),
        alias,
        thresholds,
        ENGINE,
    )


def test_an_evaluation_is_recorded_with_an_audit_event(platform: Platform, setup: Setup) -> None:
    evaluation = platform.evaluations.record_evaluation(
        ALICE, "clf", 1, HOLDOUT, binary_config(), binary_report(0.8), setup.digests[1], ENGINE
    )
    assert platform.evaluations.get_evaluation(ALICE, evaluation.id) == evaluation
    listed = platform.evaluations.list_evaluations(ALICE, "clf", 1, 10, None).items
    assert listed == [evaluation]
    assert platform.evaluations.list_evaluations(ALICE, "clf", 2, 10, None).items == []
    assert platform.evaluations.list_evaluations(ALICE, "clf", None, 10, None).items == [evaluation]
    event = platform.audit.list_events(ALICE, 0, 1000)[-1]
    assert (event.action, event.subject_type, event.subject_id) == (
        "evaluation.recorded",
        "model_version",
        "clf/1",
    )
    assert event.details["evaluation_id"] == evaluation.id
    assert event.details["dataset_fingerprint"] == HOLDOUT.fingerprint
    assert event.details["task"] == "binary_classification"
    assert event.details["primary_metric"] == "roc_auc"
    assert event.details["primary_value"] == 0.8


def test_an_evaluation_vouches_only_for_the_signed_package(
    platform: Platform, setup: Setup
) -> None:
    before = _events(platform)
    for digest in (setup.digests[2], "0" * 64):
        with pytest.raises(InvalidInputError, match="not the digest of the package") as caught:
            _record(platform, setup, package_digest=digest)
        assert caught.value.field == "package_digest"
    with pytest.raises(InvalidInputError, match="64 lowercase hex") as malformed:
        _record(platform, setup, package_digest="ABC")
    assert malformed.value.field == "package_digest"
    assert platform.evaluations.list_evaluations(ALICE, "clf", 1, 10, None).items == []
    assert _events(platform) == before


def test_a_version_without_a_signed_package_cannot_be_evaluated(
    platform: Platform, setup: Setup
) -> None:
    model = platform.registry.get_model(ALICE, "clf")
    with platform.store.unit_of_work() as uow:  # a version from before manifests existed
        number = uow.models.allocate_version(model.id)
        uow.models.add_version(
            ModelVersion(
                model.id, "clf", number, None, "m", (), None, "", {}, model.created_at, ALICE.actor
            )
        )
        uow.commit()
    with pytest.raises(InvalidInputError, match="has no signed package") as caught:
        platform.evaluations.record_evaluation(
            ALICE, "clf", number, HOLDOUT, binary_config(), binary_report(), "a" * 64, ENGINE
        )
    assert caught.value.field == "package_digest"


def test_record_rules_name_the_field(platform: Platform, setup: Setup) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"config": binary_config(target="")}, "config.target"),
        ({"report": dataclasses.replace(binary_report(), task=Task.REGRESSION)}, "report.task"),
        ({"dataset": dataclasses.replace(HOLDOUT, fingerprint="x")}, "dataset.fingerprint"),
        ({"engine": " "}, "engine"),
        ({"engine": "e" * 129}, "engine"),
    ]
    for changes, field in cases:
        with pytest.raises(InvalidInputError) as caught:
            _record(platform, setup, **changes)
        assert caught.value.field == field
    with pytest.raises(NotFoundError, match="no version 7"):
        platform.evaluations.record_evaluation(
            ALICE, "clf", 7, HOLDOUT, binary_config(), binary_report(), "a" * 64, ENGINE
        )
    with pytest.raises(NotFoundError, match="'nope' does not exist"):
        platform.evaluations.record_evaluation(
            ALICE, "nope", 1, HOLDOUT, binary_config(), binary_report(), "a" * 64, ENGINE
        )


def test_a_comparison_records_both_evaluations_and_a_verdict_computed_here(
    platform: Platform, setup: Setup
) -> None:
    comparison = _compare(platform, setup)
    assert not comparison.verdict.passed
    stored = platform.evaluations.get_comparison(ALICE, comparison.id)
    assert stored == comparison
    check = stored.verdict.checks[0]
    # The numbers of the check are those of the submitted reports, judged by the default
    # threshold (the primary metric may fall by at most 0.01).
    assert (check.metric, check.baseline, check.candidate, check.allowed) == (
        "roc_auc",
        0.8,
        0.78,
        0.01,
    )
    assert check.delta == pytest.approx(-0.02)
    assert stored.thresholds == Thresholds((Threshold("roc_auc", 0.01),))
    assert [
        e.id for e in platform.evaluations.list_evaluations(ALICE, "clf", 2, 10, None).items
    ] == [stored.candidate.id]
    assert platform.evaluations.get_evaluation(ALICE, stored.baseline.id) == stored.baseline
    assert stored.baseline_alias == "champion"
    lenient = _compare(platform, setup, thresholds=Thresholds((Threshold("roc_auc", 0.05),)))
    assert lenient.verdict.passed
    listed = platform.evaluations.list_comparisons(ALICE, "clf", 2, 10, None).items
    assert [c.id for c in listed] == [lenient.id, comparison.id]
    assert platform.evaluations.list_comparisons(ALICE, "clf", 1, 10, None).items == []
    assert platform.evaluations.latest_verdict(ALICE, "clf", 2) == lenient
    assert platform.evaluations.latest_verdict(ALICE, "clf", 1) is None


def test_the_audit_chain_holds_both_evaluations_and_the_comparison(
    platform: Platform, setup: Setup
) -> None:
    comparison = _compare(platform, setup)
    events = platform.audit.list_events(ALICE, 0, 1000)[-3:]
    assert [(e.action, e.subject_id) for e in events] == [
        ("evaluation.recorded", "clf/2"),
        ("evaluation.recorded", "clf/1"),
        ("evaluation.compared", "clf/2"),
    ]
    details = events[-1].details
    assert details["comparison_id"] == comparison.id
    assert details["passed"] is False
    assert details["baseline_version"] == 1
    assert details["baseline_alias"] == "champion"
    assert details["failed_checks"] == 2  # overall and on plan=basic
    assert details["reasons"] == list(comparison.verdict.reasons)
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert platform.audit.verify(ALICE).ok


def test_a_moved_alias_is_refused_and_nothing_is_recorded(platform: Platform, setup: Setup) -> None:
    platform.registry.set_alias(ALICE, "clf", "champion", 2)
    before = _events(platform)
    with pytest.raises(ConflictError, match="clf@champion points to version 2 now"):
        _compare(platform, setup)
    platform.registry.delete_alias(ALICE, "clf", "champion")
    with pytest.raises(ConflictError, match="points to no version now"):
        _compare(platform, setup)
    assert platform.evaluations.list_evaluations(ALICE, "clf", None, 10, None).items == []
    assert platform.evaluations.list_comparisons(ALICE, "clf", None, 10, None).items == []
    assert _events(platform) == before + 1  # the alias removal only
    _compare(platform, setup, alias=None)  # without an alias the versions speak for themselves


def test_a_failing_comparison_records_no_evaluation(platform: Platform, setup: Setup) -> None:
    before = _events(platform)
    with pytest.raises(InvalidInputError) as caught:
        _compare(platform, setup, baseline=ScoredVersion(1, setup.digests[2]))
    assert caught.value.field == "baseline.package_digest"
    with pytest.raises(NotFoundError):
        _compare(platform, setup, baseline=ScoredVersion(9, setup.digests[1]))
    assert platform.evaluations.list_evaluations(ALICE, "clf", 2, 10, None).items == []
    assert _events(platform) == before


def test_comparison_rules_name_the_field(platform: Platform, setup: Setup) -> None:
    good = pair(binary_report(0.78), binary_report(0.8))
    lie = dataclasses.replace(
        good, changes=(MetricChange("roc_auc", 0.78, 0.8, Estimate(0.02, 0.01, 0.03)),)
    )
    regression = ModelReport(Task.REGRESSION, 1000, {"rmse": Estimate(1.0)})
    cases: list[tuple[dict[str, object], str]] = [
        ({"candidate": setup.scored(1)}, "baseline.version"),
        ({"candidate": ScoredVersion(2, "z")}, "candidate.package_digest"),
        ({"baseline": ScoredVersion(1, "z")}, "baseline.package_digest"),
        ({"alias": "Champion!"}, "baseline_alias"),
        ({"paired": lie}, "changes.changes.roc_auc"),
        ({"paired": pair(regression, binary_report())}, "candidate.report.task"),
        ({"paired": pair(binary_report(), regression)}, "baseline.report.task"),
        ({"paired": pair(binary_report(rows=999), binary_report())}, "baseline.report.rows"),
        ({"thresholds": Thresholds((Threshold("rmse", 0.1),))}, "thresholds.rules[0].metric"),
        ({"thresholds": Thresholds(())}, "thresholds.rules"),
    ]
    before = _events(platform)
    for changes, field in cases:
        with pytest.raises(InvalidInputError) as caught:
            _compare(platform, setup, **changes)
        assert caught.value.field == field, changes
    assert _events(platform) == before


def test_segments_and_fairness_are_judged_with_the_rest(platform: Platform, setup: Setup) -> None:
    candidate = binary_report(0.8, segments={"basic": (600, 0.7)}, parity=0.2)
    baseline = binary_report(0.8, segments={"basic": (600, 0.8)}, parity=0.05)
    thresholds = Thresholds(
        (Threshold("roc_auc", 0.01), Threshold("demographic_parity_difference", 0.05))
    )
    comparison = _compare(platform, setup, pair(candidate, baseline), thresholds=thresholds)
    verdict = comparison.verdict
    assert [(c.scope.value, c.target, c.passed) for c in verdict.checks] == [
        ("overall", "all rows", True),
        ("segment", "plan=basic", False),
        ("fairness", "sex", False),
    ]


def test_ranking_comparisons_default_to_the_first_cutoff(platform: Platform, setup: Setup) -> None:
    config = dataclasses.replace(
        binary_config(),
        task=Task.RANKING,
        query="session",
        cutoffs=(5,),
        sensitive=(),
        segments=(SegmentRule("plan", column="plan"),),
    )
    report = ModelReport(Task.RANKING, 50, {"ndcg@5": Estimate(0.6)}, cutoffs=(5,))
    comparison = platform.evaluations.compare(
        ALICE,
        "clf",
        HOLDOUT,
        config,
        setup.scored(2),
        setup.scored(1),
        pair(report, report),
        None,
        None,
        ENGINE,
    )
    assert comparison.thresholds.rules[0].metric == "ndcg@5"
    assert comparison.verdict.passed


def test_a_viewer_reads_but_cannot_record(platform: Platform, setup: Setup) -> None:
    platform.principals.create(ALICE, PrincipalKind.USER, "vic")
    platform.principals.grant(ALICE, "churn", "user:vic", Role.VIEWER)
    viewer = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:vic", "t").secret
    )
    platform.principals.create(ALICE, PrincipalKind.USER, "eve")
    stranger = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:eve", "t").secret
    )
    comparison = _compare(platform, setup)
    with pytest.raises(PermissionDeniedError, match=r"model\.write"):
        platform.evaluations.record_evaluation(
            viewer, "clf", 1, HOLDOUT, binary_config(), binary_report(), setup.digests[1], ENGINE
        )
    with pytest.raises(PermissionDeniedError, match=r"model\.write"):
        _compare(platform, setup, caller=viewer)
    cid = comparison.id
    assert platform.evaluations.get_comparison(viewer, cid) == comparison
    assert platform.evaluations.list_comparisons(viewer, "clf", None, 10, None).items
    evaluation_id = comparison.candidate.id
    assert platform.evaluations.get_evaluation(viewer, evaluation_id).version == 2
    for read in (
        lambda: platform.evaluations.get_comparison(stranger, cid),
        lambda: platform.evaluations.get_evaluation(stranger, evaluation_id),
        lambda: platform.evaluations.list_evaluations(stranger, "clf", 1, 10, None),
        lambda: platform.evaluations.latest_verdict(stranger, "clf", 2),
    ):
        with pytest.raises(PermissionDeniedError, match=r"project\.read"):
            read()
    denied = [e for e in platform.audit.list_events(ALICE, 0, 1000) if e.action == "access.denied"]
    assert denied[0].actor == "user:vic"
    assert denied[0].details["permission"] == "model.write"


def test_reads_check_their_arguments(platform: Platform, setup: Setup) -> None:
    with pytest.raises(InvalidInputError) as evaluation:
        platform.evaluations.get_evaluation(ALICE, "not-an-id")
    assert evaluation.value.field == "evaluation_id"
    with pytest.raises(InvalidInputError) as comparison:
        platform.evaluations.get_comparison(ALICE, "../x")
    assert comparison.value.field == "comparison_id"
    with pytest.raises(InvalidInputError) as page:
        platform.evaluations.list_comparisons(ALICE, "clf", None, 0, None)
    assert page.value.field == "page_size"
    with pytest.raises(NotFoundError, match="no version 5"):
        platform.evaluations.list_evaluations(ALICE, "clf", 5, 10, None)
    with pytest.raises(NotFoundError, match="no version 5"):
        platform.evaluations.latest_verdict(ALICE, "clf", 5)
    with pytest.raises(NotFoundError):
        platform.evaluations.get_evaluation(ALICE, "0" * 32)
