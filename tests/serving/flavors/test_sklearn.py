"""The scikit-learn flavor: skops by default (untrusted types only from verified packages),
pickle only from verified packages, and predictions equal to the original estimator's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.flavors import UnverifiedPackageError
from tests.serving.flavors.packages import save

RNG = np.random.default_rng(7)
X = RNG.normal(size=(60, 4))
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)


@pytest.fixture(scope="module")
def classifier() -> LogisticRegression:
    return LogisticRegression().fit(X, Y)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenure": RNG.integers(0, 60, 60),
            "charges": RNG.normal(50, 10, 60),
            "plan": RNG.choice(["basic", "pro"], 60),
        }
    )


@pytest.fixture(scope="module")
def pipeline(frame: pd.DataFrame) -> Pipeline:
    prep = ColumnTransformer(
        [("num", StandardScaler(), ["tenure", "charges"]), ("cat", OneHotEncoder(), ["plan"])]
    )
    return Pipeline([("prep", prep), ("clf", LogisticRegression())]).fit(
        frame, frame["tenure"] < 20
    )


def test_a_classifier_round_trips_through_skops_with_its_labels(
    classifier: LogisticRegression, tmp_path: Path
) -> None:
    package = save(classifier, tmp_path / "pkg", input_example=X[:5])
    assert package.flavor == "sklearn"
    assert package.signature == Signature(
        (ColumnSpec("input", "float64", (-1, 4)),), (ColumnSpec("prediction", "int64", (-1,)),)
    )
    assert (tmp_path / "pkg" / "model.skops").is_file()
    assert package.descriptor.config["method"] == "predict"
    predicted = package.predict(X)["prediction"]
    np.testing.assert_array_equal(predicted, classifier.predict(X))
    assert predicted.dtype == classifier.predict(X).dtype


def test_predict_proba_splits_into_named_outputs(
    classifier: LogisticRegression, tmp_path: Path
) -> None:
    signature = Signature(
        (ColumnSpec("input", "float64", (-1, 4)),),
        (ColumnSpec("p_no", "float64"), ColumnSpec("p_yes", "float64")),
    )
    package = save(
        classifier,
        tmp_path / "pkg",
        signature=signature,
        input_example=X[:3],
        method="predict_proba",
    )
    assert package.signature == signature
    answer = package.predict(X)
    expected = classifier.predict_proba(X)
    np.testing.assert_allclose(answer["p_no"], expected[:, 0])
    np.testing.assert_allclose(answer["p_yes"], expected[:, 1])


def test_a_pipeline_fitted_on_a_dataframe_scores_a_dataframe_of_mixed_types(
    pipeline: Pipeline, frame: pd.DataFrame, tmp_path: Path
) -> None:
    package = save(pipeline, tmp_path / "pkg", input_example=frame.head(4), method="predict_proba")
    assert [(c.name, c.type) for c in package.signature.inputs] == [
        ("tenure", "int64"),
        ("charges", "float64"),
        ("plan", "string"),
    ]
    assert package.signature.outputs == (ColumnSpec("prediction", "float64", (-1, 2)),)
    assert package.descriptor.config["feature_names"] == ["tenure", "charges", "plan"]
    answer = package.predict(frame)["prediction"]
    np.testing.assert_allclose(answer, pipeline.predict_proba(frame))


def test_a_dataframe_model_takes_one_tensor_input_in_its_feature_order(tmp_path: Path) -> None:
    named = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = make_pipeline(StandardScaler(), LinearRegression()).fit(named, X[:, 0] * 2)
    package = save(model, tmp_path / "pkg", input_example=X[:4])
    np.testing.assert_allclose(package.predict(X)["prediction"], model.predict(named))


def test_types_skops_does_not_trust_load_only_from_a_verified_package(tmp_path: Path) -> None:
    forest = RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(X, X[:, 0])
    package = save(forest, tmp_path / "pkg", input_example=X[:4])
    with pytest.raises(UnverifiedPackageError, match="skops does not trust") as refused:
        package.load(verified=False)
    assert refused.value.field == "package"
    np.testing.assert_array_equal(
        package.predict(X, verified=True)["prediction"], forest.predict(X)
    )


def test_pickle_saves_but_loads_only_from_a_verified_package(
    classifier: LogisticRegression, tmp_path: Path
) -> None:
    package = save(classifier, tmp_path / "pkg", input_example=X[:4], format="pickle")
    assert package.descriptor.config["file"] == "model.pkl"
    with pytest.raises(UnverifiedPackageError, match="pickle, which runs code"):
        package.load(verified=False)
    np.testing.assert_array_equal(
        package.predict(X, verified=True)["prediction"], classifier.predict(X)
    )


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"format": "joblib"}, "options.format"),
        ({"method": "transform"}, "options.method"),
        ({"compress": True}, "options.compress"),
    ],
)
def test_bad_options_are_refused_naming_the_option(
    classifier: LogisticRegression, tmp_path: Path, options: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        save(classifier, tmp_path / "pkg", input_example=X[:2], **options)
    assert refused.value.field == field


def test_predict_proba_is_refused_for_a_regressor(tmp_path: Path) -> None:
    model = LinearRegression().fit(X, X[:, 0])
    with pytest.raises(InvalidInputError, match="no method 'predict_proba'"):
        save(model, tmp_path / "pkg", input_example=X[:2], method="predict_proba")


def test_a_descriptor_pointing_outside_the_package_is_refused(
    classifier: LogisticRegression, tmp_path: Path
) -> None:
    package = save(classifier, tmp_path / "pkg", input_example=X[:2])
    path = tmp_path / "pkg" / "lockgate-model.json"
    document = json.loads(path.read_text())
    document["config"]["file"] = "../model.skops"
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidInputError, match=r"config\.file must be a file name"):
        package.load()
