"""Input validation: a bad batch raises InvalidInputError naming the field, and adds nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lockgate.compute.evaluation import EvaluationBatch, Evaluator
from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.evaluation import EvaluationConfig, SegmentRule
from tests.compute.evaluation.cases import (
    binary_config,
    multiclass_config,
    ranking_config,
    regression_config,
)

_ROWS = 4
_SCORES = np.array([0.1, 0.6, 0.4, 0.9])
_TARGET = np.array([0, 1, 0, 1])
_RULES = (SegmentRule("region", column="region"), SegmentRule("large", predicate="x > 1"))
_SEGMENTS = {"region": np.array(["a", "b", "a", "b"]), "large": np.array([True, False] * 2)}


def _batch(**changes: Any) -> EvaluationBatch:
    fields: dict[str, Any] = {
        "target": _TARGET,
        "predictions": (_SCORES,),
        "segments": _SEGMENTS,
        "sensitive": {"sex": np.array(["f", "m", "f", "m"])},
    }
    fields.update(changes)
    return EvaluationBatch(**fields)


_BINARY = binary_config(segments=_RULES, sensitive=("sex",))

_BINARY_CASES = [
    ("label", _batch(target=np.array([0, 1, 2, 1]))),
    ("label", _batch(target=np.array([0.0, 1.0, np.nan, 1.0]))),
    ("label", _batch(target=np.array(["0", "1", "0", "1"]))),
    ("label", _batch(target=np.zeros((2, 2)))),
    ("predictions[0]", _batch(predictions=(np.array([0.1, np.inf, 0.2, 0.3]),))),
    ("predictions[0]", _batch(predictions=(np.array([0.1, np.nan, 0.2, 0.3]),))),
    ("predictions[0]", _batch(predictions=(np.array([0.1, 1.2, 0.2, 0.3]),))),
    ("predictions[0]", _batch(predictions=(np.array([0.1, 0.2, 0.3]),))),
    ("predictions[0]", _batch(predictions=(np.zeros((4, 2)),))),
    ("predictions", _batch(predictions=(_SCORES, _SCORES))),
    ("segments.region", _batch(segments={"large": _SEGMENTS["large"]})),
    ("segments.region", _batch(segments={**_SEGMENTS, "region": np.array(["a"])})),
    ("segments.large", _batch(segments={**_SEGMENTS, "large": np.array([1, 0, 1, 0])})),
    ("segments", _batch(segments={**_SEGMENTS, "unknown": np.zeros(_ROWS)})),
    ("sensitive.sex", _batch(sensitive={})),
    ("queries", _batch(queries=np.zeros(_ROWS))),
]


@pytest.mark.parametrize(("field", "batch"), _BINARY_CASES)
def test_a_bad_binary_batch_names_the_field_and_adds_nothing(
    field: str, batch: EvaluationBatch
) -> None:
    evaluator = Evaluator(_BINARY)

    with pytest.raises(InvalidInputError, match=r".+") as raised:
        evaluator.update(batch)

    assert raised.value.field == field
    assert evaluator.state_bytes == 0
    evaluator.update(_batch())
    assert evaluator.report().rows == _ROWS


@pytest.mark.parametrize(
    ("config", "batch", "field"),
    [
        (
            multiclass_config(),
            EvaluationBatch(target=np.array([0, 3]), predictions=(np.full((2, 3), 1 / 3),)),
            "label",
        ),
        (
            multiclass_config(),
            EvaluationBatch(target=np.array([0, 1]), predictions=(np.full((2, 3), 0.5),)),
            "predictions[0]",
        ),
        (
            multiclass_config(),
            EvaluationBatch(target=np.array([0, 1]), predictions=(np.full(2, 0.5),)),
            "predictions[0]",
        ),
        (
            regression_config(),
            EvaluationBatch(target=np.array([1.0, np.inf]), predictions=(np.zeros(2),)),
            "label",
        ),
        (
            regression_config(),
            EvaluationBatch(target=np.zeros(2), predictions=(np.zeros(2),), queries=np.zeros(2)),
            "queries",
        ),
        (
            ranking_config(),
            EvaluationBatch(
                target=np.array([1.0, -1.0]), predictions=(np.zeros(2),), queries=np.zeros(2)
            ),
            "relevance",
        ),
        (
            ranking_config(),
            EvaluationBatch(target=np.ones(2), predictions=(np.zeros(2),)),
            "query",
        ),
        (
            ranking_config(),
            EvaluationBatch(
                target=np.ones(3), predictions=(np.zeros(3),), queries=np.array([1, 2, 1])
            ),
            "query",
        ),
        (
            ranking_config(),
            EvaluationBatch(
                target=np.ones(2),
                predictions=(np.zeros(2),),
                queries=np.array(["q", None], dtype=object),
            ),
            "query",
        ),
    ],
)
def test_a_bad_batch_of_another_task_names_the_field(
    config: EvaluationConfig, batch: EvaluationBatch, field: str
) -> None:
    with pytest.raises(InvalidInputError, match=r".+") as raised:
        Evaluator(config).update(batch)

    assert raised.value.field == field


def test_multiclass_width_is_fixed_by_the_labels_or_the_first_batch() -> None:
    evaluator = Evaluator(multiclass_config(), labels=("a", "b", "c"))
    with pytest.raises(InvalidInputError, match="3 probability columns") as raised:
        evaluator.update(
            EvaluationBatch(target=np.array([0]), predictions=(np.full((1, 4), 0.25),))
        )
    assert raised.value.field == "predictions[0]"

    evaluator = Evaluator(multiclass_config())
    evaluator.update(EvaluationBatch(target=np.array([0]), predictions=(np.full((1, 4), 0.25),)))
    with pytest.raises(InvalidInputError, match="4 probability columns"):
        evaluator.update(
            EvaluationBatch(target=np.array([0]), predictions=(np.full((1, 3), 1 / 3),))
        )


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"models": 3}, "models"),
        ({"labels": ("only",)}, "labels"),
        ({"exact_budget": 0}, "exact_budget"),
    ],
)
def test_bad_evaluator_options_name_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=r".+") as raised:
        Evaluator(binary_config(), **options)

    assert raised.value.field == field


def test_an_invalid_configuration_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="resamples") as raised:
        Evaluator(binary_config(resamples=-1))

    assert raised.value.field == "resamples"


def test_the_report_matches_the_number_of_models_and_closes_the_evaluator() -> None:
    single, paired = Evaluator(binary_config()), Evaluator(binary_config(), models=2)

    with pytest.raises(InvalidInputError, match="two models") as raised:
        single.paired_report()
    assert raised.value.field == "models"
    with pytest.raises(InvalidInputError, match="paired"):
        paired.report()
    first = single.report()
    assert single.report() is first
    with pytest.raises(ConflictError, match="reported"):
        single.update(EvaluationBatch(target=_TARGET, predictions=(_SCORES,)))
