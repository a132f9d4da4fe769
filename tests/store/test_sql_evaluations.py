"""Contract of SqlEvaluationRepository on every dialect: evaluations and comparisons read back
exactly as written, list newest first by version or candidate, and refuse dangling references."""

from __future__ import annotations

import dataclasses

import pytest

from lockgate.domain.errors import InvalidInputError, NotFoundError
from lockgate.domain.evaluation import (
    Comparison,
    ComparisonId,
    Evaluation,
    EvaluationId,
    Threshold,
    Thresholds,
    judge,
)
from lockgate.domain.pagination import encode_cursor
from lockgate.domain.registry import RegisteredModel
from lockgate.domain.tracking import Project
from tests.store.sql_builders import (
    ALICE,
    UowFactory,
    add_project,
    at,
    make_model,
    make_version,
    new_id,
)
from tests.support.evaluations import HOLDOUT, binary_config, binary_report, pair


@pytest.fixture
def project(uow_factory: UowFactory) -> Project:
    return add_project(uow_factory)


@pytest.fixture
def model(uow_factory: UowFactory, project: Project) -> RegisteredModel:
    model = make_model(project)
    with uow_factory() as uow:
        uow.models.add_model(model)
        for _ in range(3):
            uow.models.add_version(make_version(model, uow.models.allocate_version(model.id)))
        uow.commit()
    return model


def _evaluation(
    model: RegisteredModel, version: int, seconds: float, auc: float = 0.8
) -> Evaluation:
    return Evaluation(
        EvaluationId(new_id()),
        model.project_id,
        model.id,
        model.name,
        version,
        HOLDOUT,
        binary_config(),
        binary_report(auc),
        "e" * 64,
        "test-engine 1.0",
        at(seconds),
        ALICE,
    )


def _comparison(
    model: RegisteredModel, candidate: Evaluation, baseline: Evaluation, seconds: float
) -> Comparison:
    paired = pair(candidate.report, baseline.report)
    thresholds = Thresholds((Threshold("roc_auc", 0.01), Threshold("accuracy", 0.1, relative=True)))
    return Comparison(
        ComparisonId(new_id()),
        model.project_id,
        model.id,
        model.name,
        candidate,
        baseline,
        "champion",
        paired,
        thresholds,
        judge(paired, thresholds),
        at(seconds),
        ALICE,
    )


def _add(uow_factory: UowFactory, *evaluations: Evaluation) -> None:
    with uow_factory() as uow:
        for evaluation in evaluations:
            uow.evaluations.add_evaluation(evaluation)
        uow.commit()


def test_an_evaluation_reads_back_exactly(uow_factory: UowFactory, model: RegisteredModel) -> None:
    evaluation = _evaluation(model, 1, 0)
    _add(uow_factory, evaluation)
    with uow_factory() as uow:
        assert uow.evaluations.get_evaluation(evaluation.id) == evaluation
        with pytest.raises(NotFoundError, match="does not exist"):
            uow.evaluations.get_evaluation(EvaluationId("0" * 32))


def test_an_evaluation_of_a_missing_version_is_refused(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    with uow_factory() as uow:
        with pytest.raises(NotFoundError, match="has no version 9"):
            uow.evaluations.add_evaluation(_evaluation(model, 9, 0))
        # The transaction stays usable after the refusal.
        uow.evaluations.add_evaluation(_evaluation(model, 1, 0))
        uow.commit()


def test_evaluations_list_newest_first_by_version_in_pages(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    first = [_evaluation(model, 1, seconds) for seconds in (0, 1, 1, 2)]
    other = _evaluation(model, 2, 5)
    _add(uow_factory, *first, other)
    with uow_factory() as uow:
        seen = []
        cursor = None
        while True:
            page = uow.evaluations.list_evaluations(model.id, 1, 3, cursor)
            seen.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        everything = uow.evaluations.list_evaluations(model.id, None, 10, None)
    expected = sorted(first, key=lambda e: (e.created_at, e.id), reverse=True)
    assert [e.id for e in seen] == [e.id for e in expected]
    assert [e.id for e in everything.items] == [other.id] + [e.id for e in expected]


def test_a_cursor_must_fit_the_query(uow_factory: UowFactory, model: RegisteredModel) -> None:
    _add(uow_factory, _evaluation(model, 1, 0))
    with uow_factory() as uow:
        with pytest.raises(InvalidInputError) as caught:
            uow.evaluations.list_evaluations(model.id, 1, 10, encode_cursor([1]))
        assert caught.value.field == "page_token"
        odd = uow.evaluations.list_evaluations(model.id, 1, 10, encode_cursor(["x", 3]))
        assert odd.items == []


def test_a_comparison_reads_back_with_its_evaluations_and_verdict(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    candidate, baseline = _evaluation(model, 2, 0, 0.78), _evaluation(model, 1, 0, 0.8)
    comparison = _comparison(model, candidate, baseline, 0)
    _add(uow_factory, candidate, baseline)
    with uow_factory() as uow:
        uow.evaluations.add_comparison(comparison)
        uow.commit()
    with uow_factory() as uow:
        stored = uow.evaluations.get_comparison(comparison.id)
        with pytest.raises(NotFoundError, match="does not exist"):
            uow.evaluations.get_comparison(ComparisonId("0" * 32))
    assert stored == comparison
    assert not stored.verdict.passed


def test_a_comparison_of_unstored_evaluations_is_refused(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    candidate, baseline = _evaluation(model, 2, 0), _evaluation(model, 1, 0)
    _add(uow_factory, baseline)
    with uow_factory() as uow, pytest.raises(NotFoundError, match="is not stored"):
        uow.evaluations.add_comparison(_comparison(model, candidate, baseline, 0))


def test_comparisons_list_newest_first_by_candidate(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    one, two, three = (_evaluation(model, n, 0) for n in (1, 2, 3))
    _add(uow_factory, one, two, three)
    comparisons = [
        _comparison(model, two, one, 1),
        _comparison(model, two, one, 2),
        _comparison(model, three, one, 3),
    ]
    with uow_factory() as uow:
        for comparison in comparisons:
            uow.evaluations.add_comparison(comparison)
        uow.commit()
    with uow_factory() as uow:
        first = uow.evaluations.list_comparisons(model.id, 2, 1, None)
        second = uow.evaluations.list_comparisons(model.id, 2, 1, first.next_cursor)
        everything = uow.evaluations.list_comparisons(model.id, None, 10, None)
        none = uow.evaluations.list_comparisons(model.id, 1, 10, None)
    assert [c.id for c in first.items + list(second.items)] == [
        comparisons[1].id,
        comparisons[0].id,
    ]
    assert second.next_cursor is None
    assert [c.id for c in everything.items] == [c.id for c in reversed(comparisons)]
    assert everything.items[0] == comparisons[2]
    assert none.items == []


def test_an_evaluation_without_optional_parts_reads_back(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    evaluation = dataclasses.replace(
        _evaluation(model, 1, 0),
        dataset=dataclasses.replace(HOLDOUT, row_count=None, schema=(), source="s3://b/holdout"),
        report=dataclasses.replace(
            binary_report(), confusion_matrix=None, calibration=None, fairness=(), segments=()
        ),
    )
    _add(uow_factory, evaluation)
    with uow_factory() as uow:
        assert uow.evaluations.get_evaluation(evaluation.id) == evaluation
