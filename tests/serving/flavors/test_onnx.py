"""The ONNX flavor: a ModelProto or .onnx bytes run by ONNX Runtime on the CPU, signature columns
matched to the graph's inputs and outputs by name, cast to the graph's types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from skl2onnx import to_onnx
from sklearn.linear_model import LinearRegression, LogisticRegression

from lockgate.domain.errors import InvalidInputError, UserCodeError
from lockgate.domain.registry import ColumnSpec, Signature
from tests.serving.flavors.packages import save

RNG = np.random.default_rng(3)
X = RNG.normal(size=(50, 3)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


@pytest.fixture(scope="module")
def classifier() -> LogisticRegression:
    return LogisticRegression().fit(X, Y)


@pytest.fixture(scope="module")
def graph(classifier: LogisticRegression) -> Any:
    """The classifier as ONNX, with tensor outputs `label` and `probabilities`."""
    return to_onnx(classifier, X[:1], options={id(classifier): {"zipmap": False}})


def test_a_model_proto_round_trips_with_every_tensor_output(
    classifier: LogisticRegression, graph: Any, tmp_path: Path
) -> None:
    package = save(graph, tmp_path / "pkg", input_example=X[:4])
    assert package.flavor == "onnx"
    assert (tmp_path / "pkg" / "model.onnx").read_bytes() == graph.SerializeToString()
    assert package.signature == Signature(
        (ColumnSpec("input", "float32", (-1, 3)),),
        (
            ColumnSpec("label", "int64", (-1,)),
            ColumnSpec("probabilities", "float32", (-1, 2)),
        ),
    )
    assert package.descriptor.config["intra_op_threads"] == 1
    answer = package.predict(X)
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    label, probabilities = session.run(["label", "probabilities"], {"X": X})
    np.testing.assert_array_equal(answer["label"], label)
    np.testing.assert_array_equal(answer["probabilities"], probabilities)
    np.testing.assert_array_equal(answer["label"], classifier.predict(X))
    np.testing.assert_allclose(answer["probabilities"], classifier.predict_proba(X), atol=1e-6)


def test_bytes_are_taken_and_float64_inputs_are_cast_to_the_graph_type(
    classifier: LogisticRegression, graph: Any, tmp_path: Path
) -> None:
    signature = Signature(
        (ColumnSpec("features", "float64", (-1, 3)),), (ColumnSpec("churn", "int64"),)
    )
    package = save(
        graph.SerializeToString(),
        tmp_path / "pkg",
        signature=signature,
        input_example=X.astype(np.float64)[:4],
        intra_op_threads=2,
    )
    assert package.signature == signature
    assert package.descriptor.config["intra_op_threads"] == 2
    answer = package.predict(X.astype(np.float64))
    np.testing.assert_array_equal(answer["churn"], classifier.predict(X))


def test_outputs_and_inputs_map_by_name_and_scalar_columns_stack(
    classifier: LogisticRegression, graph: Any, tmp_path: Path
) -> None:
    frame = pd.DataFrame(X, columns=["tenure", "charges", "calls"])
    package = save(
        graph,
        tmp_path / "pkg",
        input_example=frame.head(3),
        outputs={"probability": "probabilities"},
    )
    assert [c.name for c in package.signature.inputs] == ["tenure", "charges", "calls"]
    assert [c.name for c in package.signature.outputs] == ["probability"]
    np.testing.assert_allclose(
        package.predict(frame)["probability"], classifier.predict_proba(X), atol=1e-6
    )


def test_a_zipmap_output_is_left_out_unless_asked_for(
    classifier: LogisticRegression, tmp_path: Path
) -> None:
    zipmapped = to_onnx(classifier, X[:1])
    package = save(zipmapped, tmp_path / "pkg", input_example=X[:3])
    assert [c.name for c in package.signature.outputs] == ["output_label"]
    with pytest.raises(UserCodeError, match="zipmap"):
        save(
            zipmapped,
            tmp_path / "asked",
            input_example=X[:3],
            outputs={"p": "output_probability"},
        )


def test_a_graph_with_inputs_the_signature_lacks_is_refused(tmp_path: Path) -> None:
    regressor = LinearRegression().fit(X, X[:, 0])
    two_inputs = to_onnx(regressor, X[:1])
    signature = Signature(
        (ColumnSpec("a", "float32", (-1, 3)), ColumnSpec("b", "float32", (-1, 3))),
        (ColumnSpec("y", "float32", (-1, 1)),),
    )
    with pytest.raises(InvalidInputError) as refused:
        save(two_inputs, tmp_path / "pkg", signature=signature, inputs={"a": "nope"})
    assert refused.value.field == "options.inputs"


def test_bytes_that_are_not_onnx_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="ONNX Runtime cannot load") as refused:
        save(b"not a graph", tmp_path / "pkg", input_example=X[:2])
    assert refused.value.field == "model"
