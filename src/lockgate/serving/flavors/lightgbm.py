"""The LightGBM flavor: a `Booster` or a scikit-learn style estimator (`LGBMClassifier`, ...)
in LightGBM's text model format, scored to give what the original estimator's `predict` gives."""

from __future__ import annotations

from collections.abc import Mapping
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

__all__ = ["LIGHTGBM_ESTIMATORS", "LightgbmFlavor", "LightgbmPredictor"]

LIGHTGBM_ESTIMATORS = ("Booster", "LGBMClassifier", "LGBMRegressor", "LGBMRanker")
"""The classes the flavor takes; every one is saved as its booster's text model."""
_FILE = "model.txt"


@dataclass(frozen=True, slots=True)
class LightgbmPredictor:
    """A loaded booster. With `classes` (a classifier) `predict` gives class labels and
    `predict_proba` one probability per class, as `LGBMClassifier` does."""

    booster: Any
    method: str
    order: tuple[str, ...]
    outputs: tuple[str, ...]
    classes: npt.NDArray[Any] | None = None

    def predict(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        """Score a batch."""
        matrix = as_float_matrix(inputs, list(self.order))
        with user_code("the LightGBM model"):
            raw = np.asarray(self.booster.predict(matrix))
        if self.classes is None:
            return name_outputs(raw, self.outputs)
        # A binary booster gives the positive class's probability; LGBMClassifier stacks both.
        probabilities = np.column_stack([1.0 - raw, raw]) if raw.ndim == 1 else raw
        if self.method == "predict_proba":
            return name_outputs(probabilities, self.outputs)
        return name_outputs(self.classes[np.argmax(probabilities, axis=1)], self.outputs)


def _estimator(model: object) -> str | None:
    for cls in type(model).__mro__:
        if cls.__module__.split(".")[0] == "lightgbm" and cls.__name__ in LIGHTGBM_ESTIMATORS:
            return cls.__name__
    return None


def _booster(model: Any, estimator: str) -> Any:
    if estimator == "Booster":
        return model
    if callable(getattr(model, "objective", None)):
        raise InvalidInputError(
            "a model with a custom objective function cannot be scored without its code: "
            "log it with the python flavor",
            field="model",
        )
    try:
        return model.booster_
    except (AttributeError, ValueError) as exc:  # sklearn's NotFittedError is both
        raise InvalidInputError(f"the {estimator} is not fitted", field="model") from exc


def _classes(model: Any) -> dict[str, Any]:
    """A classifier's labels, JSON-compatible, and their dtype to restore them."""
    classes = np.asarray(model.classes_)
    labels = classes.tolist()
    if not all(isinstance(label, str | int | float | bool) for label in labels):
        raise InvalidInputError("class labels must be strings or numbers", field="model")
    return {"classes": labels, "classes_dtype": classes.dtype.str}


def _load_classes(config: Mapping[str, Any]) -> npt.NDArray[Any]:
    labels = config.get("classes")
    if not isinstance(labels, list) or not labels:
        raise InvalidInputError("config.classes must be a list of labels", field="package")
    try:
        return np.asarray(labels, dtype=np.dtype(config_text(config, "classes_dtype")))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"config.classes do not load: {exc}", field="package") from exc


@dataclass(frozen=True, slots=True)
class LightgbmFlavor:
    """LightGBM boosters and scikit-learn style estimators.

    Option: `method` is `predict` (the default) or, for classifiers, `predict_proba`.
    """

    name: ClassVar[str] = "lightgbm"
    method: str = "predict"

    def accepts(self, model: object) -> bool:
        """A `Booster` or a LightGBM scikit-learn style estimator."""
        return _estimator(model) is not None

    def save(self, model: object, directory: Path, signature: Signature) -> dict[str, Any]:
        """Write `model.txt`; a classifier's config keeps its class labels."""
        estimator = _estimator(model)
        if estimator is None:
            raise InvalidInputError("the model is not a LightGBM model", field="model")
        classifier = estimator == "LGBMClassifier"
        methods = ("predict", "predict_proba") if classifier else ("predict",)
        if self.method not in methods:
            raise InvalidInputError(
                f"a {estimator} scores with {' or '.join(methods)}", field="options.method"
            )
        booster = _booster(model, estimator)
        booster.save_model(str(directory / _FILE))
        config: dict[str, Any] = {
            "file": _FILE,
            "estimator": estimator,
            "method": self.method,
            "inputs": [column.name for column in signature.inputs],
            "outputs": output_names(signature, [DEFAULT_OUTPUT]),
        }
        if classifier:
            config.update(_classes(model))
        return config

    def load(
        self, directory: Path, config: Mapping[str, Any], signature: Signature, *, verified: bool
    ) -> LightgbmPredictor:
        """Load the booster; the text format is data only, so `verified` is not needed."""
        try:
            import lightgbm
        except ImportError as exc:
            raise missing_framework("lightgbm", "lightgbm") from exc
        path = config_file(config, "file", directory)
        estimator = config_text(config, "estimator", choices=LIGHTGBM_ESTIMATORS)
        method = config_text(config, "method", choices=("predict", "predict_proba"))
        classes = _load_classes(config) if estimator == "LGBMClassifier" else None
        return LightgbmPredictor(
            lightgbm.Booster(model_file=str(path)),
            method,
            tuple(input_order(config, signature)),
            tuple(output_names(signature, config_names(config, "outputs"))),
            classes,
        )
