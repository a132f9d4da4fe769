"""The LightGBM flavor: the booster's text model, scored to give what the original estimator's
`predict` and `predict_proba` give, class labels included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import ColumnSpec
from tests.serving.flavors.packages import save

RNG = np.random.default_rng(5)
X = RNG.normal(size=(120, 4))
SMALL: dict[str, Any] = {
    "n_estimators": 4,
    "num_leaves": 4,
    "min_child_samples": 5,
    "verbose": -1,
    "n_jobs": 1,
}


def test_a_binary_classifier_with_text_labels_gives_the_same_labels(tmp_path: Path) -> None:
    labels = np.where(X[:, 0] + X[:, 1] > 0, "churn", "stay")
    model = lgb.LGBMClassifier(**SMALL).fit(X, labels)
    package = save(model, tmp_path / "pkg", input_example=X[:5])
    assert package.flavor == "lightgbm"
    assert (tmp_path / "pkg" / "model.txt").is_file()
    assert package.signature.outputs == (ColumnSpec("prediction", "string", (-1,)),)
    assert package.descriptor.config["classes"] == ["churn", "stay"]
    np.testing.assert_array_equal(package.predict(X)["prediction"], model.predict(X))


def test_a_multiclass_classifier_gives_labels_and_probabilities(tmp_path: Path) -> None:
    classes = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0) + 10
    model = lgb.LGBMClassifier(**SMALL).fit(X, classes)
    labels = save(model, tmp_path / "labels", input_example=X[:5])
    predicted = labels.predict(X)["prediction"]
    expected = np.asarray(model.predict(X))
    np.testing.assert_array_equal(predicted, expected)
    assert predicted.dtype == expected.dtype
    probabilities = save(model, tmp_path / "proba", input_example=X[:5], method="predict_proba")
    np.testing.assert_allclose(probabilities.predict(X)["prediction"], model.predict_proba(X))


def test_a_binary_classifier_gives_both_probabilities(tmp_path: Path) -> None:
    model = lgb.LGBMClassifier(**SMALL).fit(X, X[:, 2] > 0)
    package = save(model, tmp_path / "pkg", input_example=X[:5], method="predict_proba")
    assert package.signature.outputs == (ColumnSpec("prediction", "float64", (-1, 2)),)
    np.testing.assert_allclose(package.predict(X)["prediction"], model.predict_proba(X))


def test_a_regressor_and_a_booster_round_trip(tmp_path: Path) -> None:
    regressor = lgb.LGBMRegressor(**SMALL).fit(X, X[:, 0] * 2)
    package = save(regressor, tmp_path / "regressor", input_example=X[:5])
    np.testing.assert_allclose(package.predict(X)["prediction"], regressor.predict(X))

    booster = lgb.train(
        {"objective": "regression", "num_leaves": 4, "verbose": -1, "num_threads": 1},
        lgb.Dataset(X, label=X[:, 1]),
        num_boost_round=3,
    )
    package = save(booster, tmp_path / "booster", input_example=X[:5])
    assert package.descriptor.config["estimator"] == "Booster"
    np.testing.assert_allclose(package.predict(X)["prediction"], booster.predict(X))


def _squared_error(
    y_true: npt.NDArray[Any] | None, y_pred: npt.NDArray[Any]
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    assert y_true is not None
    return y_pred - y_true, np.ones_like(y_pred)


def test_a_custom_objective_is_refused(tmp_path: Path) -> None:
    model = lgb.LGBMRegressor(objective=_squared_error, **SMALL).fit(X, X[:, 0])
    with pytest.raises(InvalidInputError, match="custom objective"):
        save(model, tmp_path / "pkg", input_example=X[:5])


def test_an_unfitted_estimator_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not fitted") as refused:
        save(lgb.LGBMRegressor(), tmp_path / "pkg", input_example=X[:5])
    assert refused.value.field == "model"
