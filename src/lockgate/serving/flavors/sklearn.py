"""The scikit-learn flavor: estimators and pipelines in skops format, which loads no type skops
does not trust unless the package was verified, or in pickle, which loads only when verified."""

from __future__ import annotations

import pickle
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
    UnverifiedPackageError,
    as_float_matrix,
    is_instance_named,
    missing_framework,
    name_outputs,
    output_names,
    user_code,
)
from lockgate.serving.flavors.config import (
    config_file,
    config_names,
    config_text,
    input_order,
)
from lockgate.serving.flavors.sklearn_trees import FAST_ROWS, CompiledTrees, compile_trees
from lockgate.serving.signature import DEFAULT_OUTPUT

__all__ = ["SKLEARN_FORMATS", "SKLEARN_METHODS", "SklearnFlavor", "SklearnPredictor"]

SKLEARN_FORMATS = {"skops": "model.skops", "pickle": "model.pkl"}
"""Each format and the file it writes."""
SKLEARN_METHODS = ("predict", "predict_proba", "decision_function")
"""The estimator methods a package may score with."""


@dataclass(frozen=True, slots=True)
class SklearnPredictor:
    """A loaded estimator: the input columns as one matrix (or, for an estimator fitted on a
    DataFrame, as a DataFrame with its feature names), through `method`, or through
    `compiled`, a tree ensemble's verified fast path, when it scores the matrix."""

    model: Any
    method: str
    order: tuple[str, ...]
    outputs: tuple[str, ...]
    feature_names: tuple[str, ...] | None = None
    frame: Callable[..., Any] | None = None
    compiled: CompiledTrees | None = None

    def predict(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        """Score a batch with the estimator's `method` (or, up to `FAST_ROWS` rows, its
        compiled fast path, which declines a matrix it does not score exactly, NaN or infinity
        among them)."""
        with user_code(f"the scikit-learn model's {self.method}"):
            features = self._features(inputs)
            result = None
            if self.compiled is not None and len(features) <= FAST_ROWS:
                result = self.compiled(features)
            if result is None:
                result = np.asarray(getattr(self.model, self.method)(features))
        return name_outputs(result, self.outputs)

    def _features(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Any:
        if self.frame is None or self.feature_names is None:
            return as_float_matrix(inputs, list(self.order))
        if self.order == self.feature_names:
            return self.frame({name: inputs[name] for name in self.order})
        return self.frame(as_float_matrix(inputs, list(self.order)), columns=self.feature_names)


def _feature_names(model: object, signature: Signature) -> list[str] | None:
    """The names the estimator was fitted with (on a DataFrame), checked against the inputs."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return None
    features = [str(name) for name in names]
    inputs = {column.name: column for column in signature.inputs}
    if set(features) <= set(inputs):
        return features
    only = next(iter(inputs.values())) if len(inputs) == 1 else None
    if only is None or only.shape != (-1, len(features)):
        raise InvalidInputError(
            f"the estimator was fitted on columns {', '.join(features)}: name the signature's "
            f"inputs so, or give one tensor input of shape (-1, {len(features)})",
            field="signature.inputs",
        )
    return features


def _selects_columns_by_name(model: Any) -> bool:
    """Whether the model picks DataFrame columns by name (a ColumnTransformer anywhere in it),
    so it must be scored on a DataFrame rather than a matrix."""
    from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped]  # no hints

    if isinstance(model, ColumnTransformer):
        return True
    get_params = getattr(model, "get_params", None)
    params = get_params(deep=True) if callable(get_params) else {}
    return any(isinstance(value, ColumnTransformer) for value in params.values())


def _forget_feature_names(model: Any) -> None:
    """Drop `feature_names_in_` from the estimator (and each pipeline step), so scoring a
    matrix does not warn that it lacks the names the estimator was fitted with."""
    steps = [step for _, step in getattr(model, "steps", [])] or [model]
    for step in steps:
        if "feature_names_in_" in getattr(step, "__dict__", {}):
            del step.feature_names_in_


def _skops() -> Any:
    try:
        import skops.io as sio  # type: ignore[import-untyped]  # skops ships no type hints
    except ImportError as exc:
        raise missing_framework("skops", "sklearn") from exc
    return sio


def _load_skops(path: Path, *, verified: bool) -> Any:
    sio = _skops()
    from skops.io.exceptions import (  # type: ignore[import-untyped]  # no type hints
        UntrustedTypesFoundException,
    )

    if verified:
        # The registry signed these bytes: trust every type they name.
        return sio.load(path, trusted=sio.get_untrusted_types(file=path))
    try:
        return sio.load(path)
    except UntrustedTypesFoundException as exc:
        raise UnverifiedPackageError(
            f"{path.name} holds types skops does not trust by default ({exc}); they load only "
            "from a package whose files and signature were verified against the registry",
            field="package",
        ) from exc


def _load_pickle(path: Path, *, verified: bool) -> Any:
    if not verified:
        raise UnverifiedPackageError(
            f"{path.name} is a pickle, which runs code as it loads: it loads only from a package "
            "whose files and signature were verified against the registry",
            field="package",
        )
    with path.open("rb") as handle:
        # Safe by construction: only bytes whose digests the registry signed, checked just
        # before this load (verified=True), reach pickle.
        return pickle.load(handle)  # noqa: S301


def _pandas_frame() -> Callable[..., Any]:
    try:
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # stubs are optional
    except ImportError as exc:
        raise ImportError(
            "this scikit-learn model was fitted on a DataFrame and scores one: pip install pandas"
        ) from exc
    frame: Callable[..., Any] = pd.DataFrame
    return frame


@dataclass(frozen=True, slots=True)
class SklearnFlavor:
    """scikit-learn estimators and pipelines.

    Options: `format` is `skops` (the default) or `pickle` (loads only from verified
    packages); `method` is `predict` (the default), `predict_proba` or `decision_function`.
    """

    name: ClassVar[str] = "sklearn"
    format: str = "skops"
    method: str = "predict"

    def accepts(self, model: object) -> bool:
        """Any object of a scikit-learn class (estimators, pipelines, their subclasses)."""
        return is_instance_named(model, "sklearn")

    def save(self, model: object, directory: Path, signature: Signature) -> dict[str, Any]:
        """Write `model.skops` (or `model.pkl`); the config names the method and columns."""
        if self.format not in SKLEARN_FORMATS:
            raise InvalidInputError(
                f"format is one of {', '.join(SKLEARN_FORMATS)}", field="options.format"
            )
        if self.method not in SKLEARN_METHODS or not callable(getattr(model, self.method, None)):
            raise InvalidInputError(
                f"the model has no method {self.method!r} (one of {', '.join(SKLEARN_METHODS)})",
                field="options.method",
            )
        features = _feature_names(model, signature)
        inputs = [column.name for column in signature.inputs]
        order = features if features is not None and set(features) <= set(inputs) else inputs
        path = directory / SKLEARN_FORMATS[self.format]
        if self.format == "skops":
            _skops().dump(model, path)
        else:
            with path.open("wb") as handle:
                pickle.dump(model, handle, protocol=5)
        config: dict[str, Any] = {
            "format": self.format,
            "file": path.name,
            "method": self.method,
            "inputs": order,
            "outputs": output_names(signature, [DEFAULT_OUTPUT]),
        }
        if features is not None:
            config["feature_names"] = features
        return config

    def load(
        self, directory: Path, config: Mapping[str, Any], signature: Signature, *, verified: bool
    ) -> SklearnPredictor:
        """Load the estimator; pickle, and skops files naming untrusted types, need
        `verified`."""
        format_ = config_text(config, "format", choices=SKLEARN_FORMATS)
        path = config_file(config, "file", directory)
        method = config_text(config, "method", choices=SKLEARN_METHODS)
        order = input_order(config, signature)
        outputs = output_names(signature, config_names(config, "outputs"))
        features = config_names(config, "feature_names") if "feature_names" in config else None
        if format_ == "pickle":
            model = _load_pickle(path, verified=verified)
        else:
            model = _load_skops(path, verified=verified)
        if features is not None and not _selects_columns_by_name(model):
            # Scored as a matrix in the fitted column order: a DataFrame per request costs
            # milliseconds, and the names were already checked against the signature.
            _forget_feature_names(model)
            features = None
        if features is not None:
            return SklearnPredictor(
                model,
                method,
                tuple(order),
                tuple(outputs),
                feature_names=tuple(features),
                frame=_pandas_frame(),
            )
        # Scored as a matrix: a tree ensemble gets a fast path that skips sklearn's per-call
        # validation (most of a small batch's time), checked against the model at load.
        compiled = compile_trees(model, method)
        return SklearnPredictor(model, method, tuple(order), tuple(outputs), compiled=compiled)
