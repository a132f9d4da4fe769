"""The XGBoost flavor: boosters and scikit-learn style estimators in UBJSON or JSON, predictions
equal to the original's, and no verification needed (the format is data only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import ColumnSpec
from tests.serving.flavors.packages import save

RNG = np.random.default_rng(11)
X = RNG.normal(size=(80, 4)).astype(np.float32)
CLASSES = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)


@pytest.fixture(scope="module")
def classifier() -> xgb.XGBClassifier:
    return xgb.XGBClassifier(n_estimators=4, max_depth=2, n_jobs=1).fit(X, CLASSES)


def test_a_classifier_gives_the_same_labels_and_probabilities(
    classifier: xgb.XGBClassifier, tmp_path: Path
) -> None:
    labels = save(classifier, tmp_path / "labels", input_example=X[:5])
    assert labels.flavor == "xgboost"
    assert (tmp_path / "labels" / "model.ubj").is_file()
    assert labels.signature.inputs == (ColumnSpec("input", "float32", (-1, 4)),)
    predicted = labels.predict(X)["prediction"]
    np.testing.assert_array_equal(predicted, classifier.predict(X))
    assert predicted.dtype == classifier.predict(X).dtype

    probabilities = save(
        classifier, tmp_path / "proba", input_example=X[:5], method="predict_proba"
    )
    assert probabilities.signature.outputs == (ColumnSpec("prediction", "float32", (-1, 3)),)
    np.testing.assert_allclose(
        probabilities.predict(X)["prediction"], classifier.predict_proba(X), rtol=1e-6
    )


def test_a_regressor_fitted_on_a_dataframe_round_trips_as_json(tmp_path: Path) -> None:
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = xgb.XGBRegressor(n_estimators=4, max_depth=2, n_jobs=1).fit(frame, X[:, 0] * 3)
    package = save(model, tmp_path / "pkg", input_example=frame.head(3), format="json")
    assert package.descriptor.config["file"] == "model.json"
    assert [c.name for c in package.signature.inputs] == ["a", "b", "c", "d"]
    np.testing.assert_allclose(package.predict(frame)["prediction"], model.predict(frame))


def test_a_booster_with_feature_names_takes_the_matrix(tmp_path: Path) -> None:
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    booster = xgb.train(
        {"max_depth": 2, "nthread": 1}, xgb.DMatrix(frame, label=X[:, 1]), num_boost_round=3
    )
    package = save(booster, tmp_path / "pkg", input_example=X[:3])
    assert package.descriptor.config["estimator"] == "Booster"
    np.testing.assert_allclose(
        package.predict(X)["prediction"], booster.predict(xgb.DMatrix(frame))
    )


def test_predict_proba_is_refused_for_a_booster(tmp_path: Path) -> None:
    booster = xgb.train({"max_depth": 1}, xgb.DMatrix(X, label=X[:, 1]), num_boost_round=1)
    with pytest.raises(InvalidInputError) as refused:
        save(booster, tmp_path / "pkg", input_example=X[:3], method="predict_proba")
    assert refused.value.field == "options.method"
