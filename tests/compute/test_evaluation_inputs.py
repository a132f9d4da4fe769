"""What an evaluation reads and how labels and answers are encoded: dataset identity and the
DuckDB stream (predicates as columns, queries kept together), the binary positive label, the
classes of a multiclass model and which output holds the score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lockgate.compute.evaluation.datasets import PREDICATE_PREFIX, EvaluationData
from lockgate.compute.evaluation.encoding import TargetEncoder, select_prediction
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation import EvaluationConfig, Task

TABLE = pa.table(
    {
        "tenure": pa.array([1.0, 30.0, 5.0, None, 50.0, 2.0]),
        "query": pa.array(["b", "a", "b", "a", "c", "a"]),
        "label": pa.array([1, 0, 0, 1, 0, 1]),
    }
)


def _binary(**options: object) -> EvaluationConfig:
    return EvaluationConfig(Task.BINARY_CLASSIFICATION, "label", **options)  # type: ignore[arg-type]


def test_a_table_is_fingerprinted_by_its_content() -> None:
    first = EvaluationData.from_table(TABLE, name="Holdout 2026/11")
    again = EvaluationData.from_table(TABLE.slice(0), name="other")
    changed = EvaluationData.from_table(TABLE.set_column(2, "label", pa.array([1] * 6)), name="x")
    assert first.fingerprint == again.fingerprint != changed.fingerprint
    assert first.name == "holdout-2026-11"
    dataset = first.dataset()
    assert dataset.row_count == 6
    assert dataset.source is None
    assert ("label", "int64") in dataset.schema


def test_a_parquet_file_is_fingerprinted_and_named_by_its_stem(tmp_path: Path) -> None:
    path = tmp_path / "Customers-2026.parquet"
    pq.write_table(TABLE, path)
    data = EvaluationData.from_path(path)
    assert data.name == "customers-2026"
    assert data.rows == 6
    assert data.source == path.resolve().as_uri()
    assert EvaluationData.from_path(path, content_hash=True).fingerprint != data.fingerprint
    pq.write_table(TABLE.slice(1), path)
    assert EvaluationData.from_path(path).fingerprint != data.fingerprint


def test_predicates_become_boolean_columns_with_null_as_false() -> None:
    data = EvaluationData.from_table(TABLE, name="t")
    with data.batches(["label"], ["tenure < 10"], batch_size=4) as reader:
        table = reader.read_all()
    assert table.column_names == ["label", f"{PREDICATE_PREFIX}0"]
    assert table.column(1).to_pylist() == [True, False, True, False, False, True]


def test_ranking_rows_arrive_grouped_by_query() -> None:
    data = EvaluationData.from_table(TABLE, name="t")
    with data.batches(["query", "label"], order_by="query", batch_size=2) as reader:
        queries = reader.read_all().column("query").to_pylist()
    assert queries == ["a", "a", "a", "b", "b", "c"]


def test_a_broken_predicate_is_an_input_error() -> None:
    data = EvaluationData.from_table(TABLE, name="t")
    with (
        pytest.raises(InvalidInputError, match="cannot be read") as caught,
        data.batches(["label"], ["no_such_column > 1"]),
    ):
        pass
    assert caught.value.field == "segments"


def test_a_missing_column_is_named() -> None:
    data = EvaluationData.from_table(TABLE, name="t")
    with pytest.raises(InvalidInputError, match="no column 'churned'") as caught:
        data.require("churned", field="target")
    assert caught.value.field == "target"


def test_binary_labels_default_to_one_and_learn_their_negative() -> None:
    encoder = TargetEncoder.build(_binary(), pa.int64())
    assert encoder.encode(pa.array([1, 0, 1])).tolist() == [1, 0, 1]
    assert encoder.labels == ("0", "1")
    with pytest.raises(InvalidInputError, match="more than two values") as caught:
        encoder.encode(pa.array([2, 1]))
    assert caught.value.field == "target"


def test_a_text_label_needs_its_positive_value_named() -> None:
    with pytest.raises(InvalidInputError, match="positive label") as caught:
        TargetEncoder.build(_binary(), pa.string())
    assert caught.value.field == "positive_label"
    encoder = TargetEncoder.build(_binary(positive_label="yes"), pa.string())
    assert encoder.encode(pa.array(["no", "yes", "no"])).tolist() == [0, 1, 0]
    assert encoder.labels == ("no", "yes")


def test_boolean_labels_and_missing_labels() -> None:
    encoder = TargetEncoder.build(_binary(positive_label="false"), pa.bool_())
    assert encoder.encode(pa.array([True, False])).tolist() == [0, 1]
    assert encoder.labels == ("true", "false")
    with pytest.raises(InvalidInputError, match="1 missing values"):
        encoder.encode(pa.array([True, None]))
    with pytest.raises(InvalidInputError, match="true or false"):
        TargetEncoder.build(_binary(positive_label="maybe"), pa.bool_())
    with pytest.raises(InvalidInputError, match="not a number"):
        TargetEncoder.build(_binary(positive_label="yes"), pa.int64())


def test_multiclass_classes_are_named_or_inferred_from_integer_labels() -> None:
    config = EvaluationConfig(Task.MULTICLASS_CLASSIFICATION, "label")
    encoder = TargetEncoder.build(config, pa.int64())
    encoder.infer_classes(3)
    assert encoder.classes == ("0", "1", "2")
    assert encoder.encode(pa.array([2, 0])).tolist() == [2, 0]
    with pytest.raises(InvalidInputError, match="name the classes"):
        TargetEncoder.build(config, pa.string()).infer_classes(3)
    named = TargetEncoder.build(
        EvaluationConfig(Task.MULTICLASS_CLASSIFICATION, "label", classes=("cat", "dog")),
        pa.string(),
    )
    with pytest.raises(InvalidInputError, match="2 classes were named"):
        named.infer_classes(3)
    with pytest.raises(InvalidInputError, match="'cow' is not one of the classes"):
        named.encode(pa.array(["cat", "cow"]))


def test_regression_labels_must_be_numeric() -> None:
    encoder = TargetEncoder.build(EvaluationConfig(Task.REGRESSION, "label"), pa.string())
    with pytest.raises(InvalidInputError, match="not numeric"):
        encoder.encode(pa.array(["1.5"]))


def test_the_score_is_the_named_output_the_only_one_or_the_positive_probability() -> None:
    proba = np.array([[0.8, 0.2], [0.1, 0.9]])
    binary = Task.BINARY_CLASSIFICATION
    assert select_prediction(binary, {"p": proba}, None).tolist() == [0.2, 0.9]
    two = {"p_no": proba[:, 0], "p_yes": proba[:, 1]}
    assert select_prediction(binary, two, None).tolist() == [0.2, 0.9]
    assert select_prediction(binary, two, "p_no").tolist() == [0.8, 0.1]
    assert select_prediction(binary, {"label": np.array(["yes", "no"])}, None, "yes").tolist() == [
        1.0,
        0.0,
    ]
    multi = {"a": np.array([0.5, 0.2]), "b": np.array([0.5, 0.8])}
    assert select_prediction(Task.MULTICLASS_CLASSIFICATION, multi, None).shape == (2, 2)
    with pytest.raises(InvalidInputError, match="has no output 'score'") as caught:
        select_prediction(binary, two, "score")
    assert caught.value.field == "output"
    with pytest.raises(InvalidInputError, match="name the one to evaluate"):
        select_prediction(Task.REGRESSION, two, None)
    with pytest.raises(InvalidInputError, match="class probabilities"):
        select_prediction(Task.MULTICLASS_CLASSIFICATION, {"p": proba[:, 0]}, None)
    with pytest.raises(InvalidInputError, match="one score per row"):
        select_prediction(Task.REGRESSION, {"p": np.zeros((2, 3))}, None)
