"""The XGBoost flavor: a `Booster` or a scikit-learn style estimator (`XGBClassifier`, ...) in
XGBoost's own UBJSON or JSON model format, which holds data only, never code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import Signature
from lockgate.serving.flavors.base import (
    Columns,
    as_float_matrix,
    missing_framework,
    name_outputs,
    output_names,
    user_code,
)
from lockgate.serving.flavors.config import config_file, config_names, config_text, input_order
from lockgate.serving.signature import DEFAULT_OUTPUT

__all__ = ["XGBOOST_ESTIMATORS", "XGBOOST_FORMATS", "XgboostFlavor", "XgboostPredictor"]

XGBOOST_FORMATS = {"ubj": "model.ubj", "json": "model.json"}
"""Each format and the file it writes."""
XGBOOST_ESTIMATORS = (
    "Booster",
    "XGBClassifier",
    "XGBRegressor",
    "XGBRanker",
    "XGBRFClassifier",
    "XGBRFRegressor",
)
"""The classes a package may name; it is loaded as an empty one of them, then `load_model`."""


@dataclass(frozen=True, slots=True)
class XgboostPredictor:
    """A loaded model: the input columns as one matrix, through `score`."""

    score: Callable[[npt.NDArray[Any]], Any]
    order: tuple[str, ...]
    outputs: tuple[str, ...]

    def predict(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        """Score a batch."""
        matrix = as_float_matrix(inputs, list(self.order))
        with user_code("the XGBoost model"):
            result = np.asarray(self.score(matrix))
        return name_outputs(result, self.outputs)


def _estimator(model: object) -> str | None:
    """The most derived class of `model` that a package may name."""
    for cls in type(model).__mro__:
        if cls.__module__.split(".")[0] == "xgboost" and cls.__name__ in XGBOOST_ESTIMATORS:
            return cls.__name__
    return None


def _booster_score(xgboost: Any, booster: Any) -> Callable[[npt.NDArray[Any]], Any]:
    def score(matrix: npt.NDArray[Any]) -> Any:
        # The booster's own feature names, so a model trained on a DataFrame takes the matrix.
        return booster.predict(xgboost.DMatrix(matrix, feature_names=booster.feature_names))

    return score


@dataclass(frozen=True, slots=True)
class XgboostFlavor:
    """XGBoost boosters and scikit-learn style estimators.

    Options: `format` is `ubj` (the default) or `json`; `method` is `predict` (the default)
    or, for classifiers, `predict_proba`.
    """

    name: ClassVar[str] = "xgboost"
    format: str = "ubj"
    method: str = "predict"

    def accepts(self, model: object) -> bool:
        """A `Booster` or an XGBoost scikit-learn style estimator."""
        return _estimator(model) is not None

    def save(self, model: object, directory: Path, signature: Signature) -> dict[str, Any]:
        """Write `model.ubj` (or `model.json`) with the model's own `save_model`."""
        estimator = _estimator(model)
        if estimator is None:
            raise InvalidInputError("the model is not an XGBoost model", field="model")
        if self.format not in XGBOOST_FORMATS:
            raise InvalidInputError(
                f"format is one of {', '.join(XGBOOST_FORMATS)}", field="options.format"
            )
        methods = ("predict", "predict_proba") if hasattr(model, "predict_proba") else ("predict",)
        if self.method not in methods:
            raise InvalidInputError(
                f"a {estimator} scores with {' or '.join(methods)}", field="options.method"
            )
        path = directory / XGBOOST_FORMATS[self.format]
        save: Callable[[str], None] = model.save_model  # type: ignore[attr-defined]  # checked above
        save(str(path))
        return {
            "format": self.format,
            "file": path.name,
            "estimator": estimator,
            "method": self.method,
            "inputs": [column.name for column in signature.inputs],
            "outputs": output_names(signature, [DEFAULT_OUTPUT]),
        }

    def load(
        self, directory: Path, config: Mapping[str, Any], signature: Signature, *, verified: bool
    ) -> XgboostPredictor:
        """Load the model; its format is data only, so `verified` is not needed."""
        try:
            import xgboost
        except ImportError as exc:
            raise missing_framework("xgboost", "xgboost") from exc
        config_text(config, "format", choices=XGBOOST_FORMATS)
        path = config_file(config, "file", directory)
        estimator = config_text(config, "estimator", choices=XGBOOST_ESTIMATORS)
        method = config_text(config, "method", choices=("predict", "predict_proba"))
        model = getattr(xgboost, estimator)()
        model.load_model(str(path))
        if estimator == "Booster":
            score = _booster_score(xgboost, model)
        elif hasattr(model, method):
            score = getattr(model, method)
        else:
            raise InvalidInputError(f"a {estimator} has no {method}", field="package")
        return XgboostPredictor(
            score,
            tuple(input_order(config, signature)),
            tuple(output_names(signature, config_names(config, "outputs"))),
        )
